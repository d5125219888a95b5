// Answers a known path asked with the wrong method (GET .../ask, PUT /studies/x) with 405 and the methods it takes, read from the router's own routes.
import type { Router, RequestHandler } from 'express';
import { HttpError } from './http_errors.js';

/**
 * The parts of express 5's router layers read here (its typings still describe express 4's). `match` is the test
 * the router itself runs on each request, so what counts as "this path" (a trailing slash, a decoded :id) is
 * exactly the router's answer; it stores nothing on the layer.
 */
interface RouteLayer {
  match(path: string): unknown;
  route?: { _methods(): string[] };
}

/** Every method the router's routes take on `path` (GET brings HEAD), in route order; empty for an unknown path. */
export function allowedMethods(router: Router, path: string): string[] {
  const out = new Set<string>();
  for (const layer of router.stack as unknown as RouteLayer[]) {
    if (layer.route && layer.match(path)) for (const m of layer.route._methods()) out.add(m);
  }
  return [...out];
}

/**
 * Mounted beside `router`, before anything reads the body: a path the router knows, asked with a method none of
 * its routes take, is 405 with an `Allow` header (RFC 9110) and a message naming them; an unknown path passes on
 * to the 404. OPTIONS passes on too: the router answers it with the same Allow list.
 */
export function refuseWrongMethod(router: Router): RequestHandler {
  return (req, res, next) => {
    if (req.method === 'OPTIONS') return next();
    const allowed = allowedMethods(router, req.path);
    if (allowed.length === 0 || allowed.includes(req.method)) return next();
    // HEAD goes without saying beside GET; the header still lists it.
    const named = allowed.filter((m) => m !== 'HEAD' || !allowed.includes('GET'));
    const path = `${req.baseUrl}${req.path}`.slice(0, 200);
    res.set('Allow', allowed.join(', '));
    next(new HttpError(405, 'METHOD_NOT_ALLOWED',
      `${path} takes ${named.join(', ')} only, not ${req.method.slice(0, 20)} (fix: send ${named.length > 1 ? `one of ${named.join(', ')}` : named[0]} ${path})`));
  };
}
