// Serves the dashboard (static pages, compiled browser modules and chart.js) from this machine: no request leaves it.
import express from 'express';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// This file runs as dist/src/server/dashboard.js: pages live in <root>/dashboard, browser modules in <root>/dist/dashboard.
const pagesDir = fileURLToPath(new URL('../../../dashboard/', import.meta.url));
const modulesDir = fileURLToPath(new URL('../../dashboard/', import.meta.url));
// The browser-safe modules the server shares with the dashboard (roles, the best-trial rule, ramp maths): the
// compiled dashboard imports them as ../../src/shared/*.js from /js/..., which resolves to /src/shared/*.js.
const sharedDir = fileURLToPath(new URL('../shared/', import.meta.url));
// chart.js's package exports hide dist/, so locate the package through its main entry instead of a cwd-relative path.
const chartUmd = path.join(path.dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.js');

/**
 * The pages load only same-origin scripts and data; the policy makes any injected markup inert even if a renderer
 * regressed to innerHTML, and blocks requests to other hosts.
 */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

export function mountDashboard(app: express.Express): void {
  const page = (file: string) => (_req: express.Request, res: express.Response) => {
    res.set('Content-Security-Policy', CSP);
    res.set('X-Content-Type-Options', 'nosniff');
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
  app.use('/src/shared', express.static(sharedDir, { index: false, fallthrough: true, extensions: [], setHeaders: (res) => res.set('Cache-Control', 'no-cache') }));
  app.use('/js', express.static(modulesDir, { index: false, fallthrough: true, extensions: [], setHeaders: (res) => res.set('Cache-Control', 'no-cache') }));
}
