// Bearer-token check for the API: constant-time, and required whenever the server listens beyond loopback.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { HttpError } from './http_errors.js';

/**
 * Hashing both sides first gives equal-length buffers, so timingSafeEqual neither throws on a length mismatch
 * nor leaks the token's length through an early return.
 */
export function tokensEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Paths under /api that stay open: a load balancer or `curl` must be able to check liveness without the secret. */
const OPEN = new Set(['/api/health']);

export function requireToken(token: string): RequestHandler {
  return (req, res, next) => {
    // Mounted under /api, so req.path alone would be '/health'.
    if (OPEN.has(req.baseUrl + req.path)) return next();
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (match && tokensEqual(match[1]!.trim(), token)) return next();
    res.set('WWW-Authenticate', 'Bearer realm="renorm-tune"');
    next(new HttpError(401, 'UNAUTHORIZED', match ? 'wrong bearer token' : 'this server needs "Authorization: Bearer <token>" (the --token / RENORM_TUNE_TOKEN it was started with)'));
  };
}

/** Loopback names and addresses: only these may serve without a token. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || h === '::ffff:127.0.0.1';
}
