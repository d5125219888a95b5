// Builds the express app: security headers, Host and token checks, compressed answers, cross-site guards, bounded JSON bodies, the /api routes, /metrics, the dashboard, JSON errors.
import express, { Router, type Express } from 'express';
import type { StudyApi } from '../study/api_types.js';
import { requireToken, tokenLogin } from './auth.js';
import { jsonBody } from './body.js';
import { compress } from './compress.js';
import { refuseCrossSite, requireJsonType } from './cross_site.js';
import { hostCheck } from './host_check.js';
import { serverMetrics } from './metrics.js';
import { refuseWrongMethod } from './methods.js';
import { errorHandler, notFound } from './http_errors.js';
import { apiRouter, READY_WAIT_MS, type RouteOptions } from './routes.js';
import { securityHeaders } from './security_headers.js';
import { VERSION_HEADER } from '../shared/names.js';
import { requireDecodablePath } from './url_check.js';

export interface AppOptions extends RouteOptions {
  /**
   * When set, /metrics and every /api route but /api/health and /api/ready need `Authorization: Bearer <token>` (or the cookie the dashboard
   * gets from opening `/?token=<token>` once).
   */
  token?: string;
  /** With `token`: a second secret that may only read (GET, HEAD): the dashboard's viewers and scrapers. */
  readToken?: string;
  /**
   * Host names served besides localhost, 127.0.0.1 and [::1] (the DNS-rebinding guard). Without a token the guard
   * is always on; with a token it is on only when this is given, since the token already keeps rebound pages out
   * and a tokened server is often reached by names and addresses nobody listed.
   */
  allowedHosts?: readonly string[];
  /** Largest accepted JSON body. Default 256 kB: a study config or a progress report is a few kB. */
  bodyLimit?: string | number;
  /** Mounts the dashboard (static UI at `/`); called before the catch-all 404. */
  ui?: (app: Express) => void;
  /** Where unexpected internal errors are written. Default stderr. */
  log?: (message: string) => void;
}

export function createApp(api: StudyApi, opts: AppOptions = {}): Express {
  const app = express();
  app.disable('x-powered-by');
  const metrics = serverMetrics(api, opts.readyWaitMs ?? READY_WAIT_MS, opts.queue);
  // First: every request is counted, those refused by the checks below too.
  app.use(metrics.observe);
  app.use(securityHeaders);
  // Every /api answer names the server's version, refusals included: a client told 401 or 404 learns it too.
  const version = opts.version;
  if (version !== undefined) app.use('/api', (_req, res, next) => void (res.set(VERSION_HEADER, version), next()));
  if (opts.token === undefined || opts.allowedHosts !== undefined) app.use(hostCheck(opts.allowedHosts ?? []));
  app.use(requireDecodablePath);
  app.use(compress);
  // Auth runs before the body is read, so an unauthenticated client cannot make the server parse anything.
  const tokens = opts.token === undefined ? undefined : { write: opts.token, ...(opts.readToken === undefined ? {} : { read: opts.readToken }) };
  if (tokens) app.use('/api', requireToken(tokens));
  const routes = apiRouter(api, opts);
  // A wrong method is refused before the body checks: a PUT's missing Content-Type is not what needs fixing.
  app.use('/api', refuseWrongMethod(routes), refuseCrossSite, requireJsonType, ...jsonBody(opts.bodyLimit ?? '256kb'));
  app.use('/api', routes);
  app.use('/api', notFound);
  // Prometheus's scrape: behind the token like the API (a scraper sends it as its bearer_token).
  const scrape = Router().get('/metrics', metrics.scrape);
  if (tokens) app.use('/metrics', requireToken(tokens));
  app.use(refuseWrongMethod(scrape), scrape);
  if (tokens && opts.ui) app.use(tokenLogin(tokens));
  opts.ui?.(app);
  app.use(notFound);
  app.use(errorHandler(opts.log ?? ((m) => process.stderr.write(`renorm-tune server: ${m}\n`))));
  return app;
}
