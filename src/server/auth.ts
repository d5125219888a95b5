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

/** The server's secrets: `write` may do anything; `read`, when set, only what GET, HEAD and OPTIONS do (viewers, scrapers). */
export interface Tokens {
  write: string;
  read?: string;
}

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Which of the tokens `given` is, if any. */
function grant(given: string, tokens: Tokens): 'write' | 'read' | undefined {
  // Both compared every time: which one matched takes no less time than a miss.
  const write = tokensEqual(given, tokens.write);
  const read = tokens.read !== undefined && tokensEqual(given, tokens.read);
  return write ? 'write' : read ? 'read' : undefined;
}

export function requireToken(tokens: Tokens): RequestHandler {
  return (req, res, next) => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    const byBearer = match ? grant(match[1]!.trim(), tokens) : undefined;
    // Mounted under /api, so req.path alone would be '/health'.
    const open = OPEN.has(req.baseUrl + req.path);
    const fromCookie = match ? undefined : cookie(req.get('cookie'), TOKEN_COOKIE);
    const granted = byBearer ?? (fromCookie === undefined ? undefined : grant(fromCookie, tokens));
    if (granted === 'read' && !READS.has(req.method) && !open) {
      return next(new HttpError(403, 'READ_ONLY_TOKEN',
        `the token given may only read (the --read-token / RENORM_TUNE_READ_TOKEN one); ${req.method.slice(0, 20)} ${(req.baseUrl + req.path).slice(0, 200)} needs the --token one`));
    }
    if (granted !== undefined) {
      if (byBearer !== undefined) res.locals[BEARER] = true;
      return next();
    }
    if (open) return next();
    res.set('WWW-Authenticate', 'Bearer realm="renorm-tune"');
    next(new HttpError(401, 'UNAUTHORIZED', match ? 'wrong bearer token' : 'this server needs "Authorization: Bearer <token>" (the --token / RENORM_TUNE_TOKEN it was started with)'));
  };
}

/**
 * `GET /?token=...` for the dashboard: a right token becomes the cookie and the URL loses the query (so it does
 * not linger in history); a wrong one is a 401 page rather than a dashboard full of failing requests.
 */
export function tokenLogin(tokens: Tokens): RequestHandler {
  return (req, res, next) => {
    const given = req.method === 'GET' ? req.query.token : undefined;
    if (typeof given !== 'string') return next();
    if (grant(given, tokens) === undefined) return next(new HttpError(401, 'UNAUTHORIZED', 'wrong token in the ?token= link'));
    // The token given becomes the cookie: a read token's link opens a dashboard that can only read.
    // Over HTTPS the cookie is Secure: a browser never sends it over plain HTTP to the same host.
    res.cookie(TOKEN_COOKIE, given, { httpOnly: true, sameSite: 'strict', path: '/', secure: req.secure });
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
