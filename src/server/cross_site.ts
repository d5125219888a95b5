// Cross-site request guards for state-changing requests: a declared JSON body, and no cross-site Origin unless a bearer token vouches for the caller.
import type { Request, RequestHandler } from 'express';
import { isBearerAuthenticated } from './auth.js';
import { HttpError } from './http_errors.js';

/** RFC 9110's safe methods; anything else may change state. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

export const changesState = (req: Request): boolean => !SAFE_METHODS.has(req.method);

/** The media type of a Content-Type header without parameters, lower-cased ('' when absent). */
function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}

/** The charset parameter of a Content-Type header, lower-cased and unquoted (undefined when absent). */
function charsetOf(header: string | undefined): string | undefined {
  const m = /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(header ?? '');
  return m ? m[1]!.toLowerCase() : undefined;
}

/**
 * A state-changing request must say `Content-Type: application/json`, with or without a body: a page on another
 * site can send a bodiless or text/plain POST without asking, but an application/json one needs a CORS preflight,
 * which this server never grants. A safe request with a body must still declare it JSON (catches `curl -d`).
 */
export const requireJsonType: RequestHandler = (req, _res, next) => {
  const hasBody = req.get('transfer-encoding') !== undefined || Number(req.get('content-length') ?? 0) > 0;
  if ((changesState(req) || hasBody) && mediaType(req.get('content-type')) !== 'application/json') {
    return next(new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE',
      `send Content-Type: application/json (also on a ${req.method} without a body); got ${req.get('content-type') ? JSON.stringify(req.get('content-type')!.slice(0, 100)) : 'none'}`));
  }
  // JSON is UTF-8 (RFC 8259). Other charsets would be decoded by the parser but not by the duplicate-key check,
  // which reads the raw bytes as UTF-8: `{"value": 0.9, "value": 0.1}` in UTF-16 would be told as 0.1.
  const charset = charsetOf(req.get('content-type'));
  if (charset !== undefined && charset !== 'utf-8') {
    return next(new HttpError(415, 'UNSUPPORTED_CHARSET', `JSON bodies are UTF-8, got charset=${JSON.stringify(charset.slice(0, 40))} (fix: send UTF-8 with Content-Type: application/json, or add ; charset=utf-8)`));
  }
  next();
};

/** Scheme-less origin of an Origin header (`http://a:1` -> `a:1`), lower-cased; undefined for `null` or junk. */
function originHost(origin: string): string | undefined {
  const m = /^https?:\/\/([^/?#]+)$/i.exec(origin.trim());
  return m ? m[1]!.toLowerCase() : undefined;
}

/**
 * Browsers send `Sec-Fetch-Site` and `Origin` on cross-site posts; other clients (curl, trainers) send neither.
 * Either one naming another origin is refused, even another port on this machine (same site, so a SameSite
 * cookie would flow). A bearer header is proof the caller holds the token, which a foreign page cannot read; the
 * dashboard's cookie is not, since the browser attaches it on its own.
 */
export const refuseCrossSite: RequestHandler = (req, res, next) => {
  if (!changesState(req) || isBearerAuthenticated(res)) return next();
  const site = req.get('sec-fetch-site')?.toLowerCase();
  const origin = req.get('origin');
  const sameOrigin = origin === undefined || (originHost(origin) !== undefined && originHost(origin) === (req.get('host') ?? '').toLowerCase());
  if ((site === undefined || site === 'same-origin' || site === 'none') && sameOrigin) return next();
  next(new HttpError(403, 'CROSS_SITE_REQUEST',
    `refused a ${req.method} from ${origin ? `origin ${JSON.stringify(origin.slice(0, 100))}` : `a ${site} page`}: only same-origin pages and non-browser clients may change studies (send "Authorization: Bearer <token>" to a server started with --token)`));
};
