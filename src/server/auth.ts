// Bearer-token check for the API: constant-time, and required whenever the server listens beyond loopback.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
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

/** Paths under /api that stay open: a load balancer or `curl` must be able to check liveness and readiness without the secret. */
const OPEN = new Set(['/api/health', '/api/ready']);

/**
 * Browsers cannot put a bearer header on page loads or EventSource, so the dashboard authenticates with a cookie
 * that `/?token=...` sets once. SameSite=Strict keeps other sites' pages from riding on it (no CSRF), HttpOnly
 * keeps page scripts from reading it.
 */
export const TOKEN_COOKIE = 'renorm_tune_token';

function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/**
 * Set when the request carried the right bearer header, which a page on another site can neither read nor make the
 * browser attach (unlike the cookie): the cross-site guard trusts only this.
 */
const BEARER = 'renormTuneBearerAuthenticated';

export function isBearerAuthenticated(res: Response): boolean {
  return res.locals[BEARER] === true;
}

export function requireToken(token: string): RequestHandler {
  return (req, res, next) => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (match && tokensEqual(match[1]!.trim(), token)) {
      res.locals[BEARER] = true;
      return next();
    }
    // Mounted under /api, so req.path alone would be '/health'.
    if (OPEN.has(req.baseUrl + req.path)) return next();
    const fromCookie = match ? undefined : cookie(req.get('cookie'), TOKEN_COOKIE);
    if (fromCookie !== undefined && tokensEqual(fromCookie, token)) return next();
    res.set('WWW-Authenticate', 'Bearer realm="renorm-tune"');
    next(new HttpError(401, 'UNAUTHORIZED', match ? 'wrong bearer token' : 'this server needs "Authorization: Bearer <token>" (the --token / RENORM_TUNE_TOKEN it was started with)'));
  };
}

/**
 * `GET /?token=...` for the dashboard: a right token becomes the cookie and the URL loses the query (so it does
 * not linger in history); a wrong one is a 401 page rather than a dashboard full of failing requests.
 */
export function tokenLogin(token: string): RequestHandler {
  return (req, res, next) => {
    const given = req.method === 'GET' ? req.query.token : undefined;
    if (typeof given !== 'string') return next();
    if (!tokensEqual(given, token)) return next(new HttpError(401, 'UNAUTHORIZED', 'wrong token in the ?token= link'));
    // Over HTTPS the cookie is Secure: a browser never sends it over plain HTTP to the same host.
    res.cookie(TOKEN_COOKIE, token, { httpOnly: true, sameSite: 'strict', path: '/', secure: req.secure });
    const rest = new URLSearchParams(req.query as Record<string, string>);
    rest.delete('token');
    const q = rest.toString();
    // One leading slash only: '//host/...' would redirect to another site.
    res.redirect(303, `/${req.path.replace(/^\/+/, '')}${q ? `?${q}` : ''}`);
  };
}

/** Loopback names and addresses: only these may serve without a token. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || h === '::ffff:127.0.0.1';
}
