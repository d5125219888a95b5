// Builds the express app: token check, JSON body parsing with limits, the /api routes, the dashboard, JSON errors.
import express, { type Express, type RequestHandler } from 'express';
import type { StudyApi } from '../study/api_types.js';
import { requireToken, tokenLogin } from './auth.js';
import { errorHandler, HttpError, notFound } from './http_errors.js';
import { apiRouter, type RouteOptions } from './routes.js';

export interface AppOptions extends RouteOptions {
  /**
   * When set, every /api route but /api/health needs `Authorization: Bearer <token>` (or the cookie the dashboard
   * gets from opening `/?token=<token>` once).
   */
  token?: string;
  /** Largest accepted JSON body. Default 256 kB: a study config or a progress report is a few kB. */
  bodyLimit?: string | number;
  /** Mounts the dashboard (static UI at `/`); called before the catch-all 404. */
  ui?: (app: Express) => void;
  /** Where unexpected internal errors are written. Default stderr. */
  log?: (message: string) => void;
}

/**
 * A body must be declared JSON. Besides catching `curl -d` without a header, this is what stops another web page
 * from POSTing to a token-less localhost server: a cross-origin application/json request needs a CORS preflight,
 * which this server never grants.
 */
const jsonOnly: RequestHandler = (req, _res, next) => {
  const hasBody = req.get('transfer-encoding') !== undefined || Number(req.get('content-length') ?? 0) > 0;
  if (hasBody && !req.is('application/json')) {
    return next(new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', `send the body as Content-Type: application/json, not ${req.get('content-type') ?? 'no type'}`));
  }
  next();
};

export function createApp(api: StudyApi, opts: AppOptions = {}): Express {
  const app = express();
  app.disable('x-powered-by');
  // Auth runs before the body is read, so an unauthenticated client cannot make the server parse anything.
  if (opts.token !== undefined) app.use('/api', requireToken(opts.token));
  app.use('/api', jsonOnly, express.json({ limit: opts.bodyLimit ?? '256kb', strict: true }));
  app.use('/api', apiRouter(api, opts));
  app.use('/api', notFound);
  if (opts.token !== undefined && opts.ui) app.use(tokenLogin(opts.token));
  opts.ui?.(app);
  app.use(notFound);
  app.use(errorHandler(opts.log ?? ((m) => process.stderr.write(`renorm-tune server: ${m}\n`))));
  return app;
}
