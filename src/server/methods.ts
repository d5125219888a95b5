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

let warned = false;

/**
 * Every method the router's routes take on `path` (GET brings HEAD), in route order; empty for an unknown path, and
 * for every path when the router's internals are not express 5's (an express the dependency range let in): then a
 * wrong method is a 404 as before there was a 405, never a 500 on every request.
 */
export function allowedMethods(router: Router, path: string): string[] {
  const stack: unknown = router.stack;
  const out = new Set<string>();
  for (const layer of (Array.isArray(stack) ? stack : [null]) as (Partial<RouteLayer> | null)[]) {
    if (typeof layer?.match !== 'function' || (layer.route !== undefined && typeof layer.route._methods !== 'function')) {
      if (!warned) process.emitWarning('this express router does not expose the route layers express 5 did: a wrong method is answered 404, not 405', { code: 'RENORM_TUNE_405' });
      warned = true;
      return [];
    }
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
