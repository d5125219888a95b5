// Serves the dashboard (static pages, compiled browser modules and chart.js) from this machine: no request leaves it.
import express from 'express';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SECURITY_HEADERS } from './security_headers.js';

// This file runs as dist/src/server/dashboard.js: pages live in <root>/dashboard, browser modules in <root>/dist/dashboard.
const pagesDir = fileURLToPath(new URL('../../../dashboard/', import.meta.url));
const modulesDir = fileURLToPath(new URL('../../dashboard/', import.meta.url));
// The browser-safe modules the server shares with the dashboard (roles, the best-trial rule, ramp maths): the
// compiled dashboard imports them as ../../src/shared/*.js from /js/..., which resolves to /src/shared/*.js.
const sharedDir = fileURLToPath(new URL('../shared/', import.meta.url));
// chart.js's package exports hide dist/, so locate the package through its main entry instead of a cwd-relative path.
const chartUmd = path.join(path.dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.js');

export interface DashboardOptions {
  /**
   * Also serve the `.js.map` files next to the modules (default false). They hold the TypeScript sources, which a
   * production server has no reason to hand out; turn on while debugging the dashboard.
   */
  sourceMaps?: boolean;
}

export function mountDashboard(app: express.Express, opts: DashboardOptions = {}): void {
  const page = (file: string) => (_req: express.Request, res: express.Response) => {
    // Also set by the app for every response; repeated so the pages keep their policy when mounted on their own.
    res.set(SECURITY_HEADERS);
    res.set('Cache-Control', 'no-cache');
    res.sendFile(path.join(pagesDir, file));
  };
  app.get('/', page('index.html'));
  app.get('/index.html', page('index.html'));
  app.get('/study.html', page('study.html'));
  app.get('/style.css', (_req, res) => {
    res.set('Cache-Control', 'no-cache');
    res.sendFile(path.join(pagesDir, 'style.css'));
  });
  app.get('/vendor/chart.umd.js', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=3600');
    res.sendFile(chartUmd);
  });
  // tsc also writes .d.ts and .map files into these folders: only browser modules (and maps when asked) go out.
  const served = opts.sourceMaps ? /\.js(\.map)?$/ : /\.js$/;
  const only = (dir: string): express.RequestHandler => {
    const files = express.static(dir, { index: false, fallthrough: true, extensions: [], setHeaders: (res) => res.set('Cache-Control', 'no-cache') });
    return (req, res, next) => (served.test(req.path) ? files(req, res, next) : next());
  };
  app.use('/src/shared', only(sharedDir));
  app.use('/js', only(modulesDir));
}
