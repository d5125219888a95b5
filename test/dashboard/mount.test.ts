// mountDashboard serves the pages, the compiled modules and chart.js locally, with a strict content security policy.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { mountDashboard } from '../../src/server/dashboard.js';

let server: Server;
let base = '';

before(async () => {
  const app = express();
  mountDashboard(app);
  app.use((_req, res) => res.status(404).json({ error: { code: 'NOT_FOUND', message: 'no route' } }));
  await new Promise<void>((resolve) => {
    server = app.listen(0, '127.0.0.1', () => resolve());
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => server.close());

test('pages come with a same-origin-only content security policy', async () => {
  for (const path of ['/', '/study.html']) {
    const res = await fetch(base + path);
    assert.equal(res.status, 200, path);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /connect-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/, 'nothing inline, nothing remote');
    const html = await res.text();
    assert.doesNotMatch(html, /https?:\/\//, `${path} references a remote URL`);
  }
});

test('chart.js and the compiled modules are served from this machine', async () => {
  const chart = await fetch(`${base}/vendor/chart.umd.js`);
  assert.equal(chart.status, 200);
  assert.match(await chart.text(), /Chart\.js v4/);
  for (const m of ['landing.js', 'study.js', 'ui/chart.js', 'data/history.js']) {
    const res = await fetch(`${base}/js/${m}`);
    assert.equal(res.status, 200, m);
    assert.match(res.headers.get('content-type') ?? '', /javascript/, m);
  }
  assert.equal((await fetch(`${base}/style.css`)).status, 200);
});

test('nothing outside the dashboard folders is reachable', async () => {
  for (const path of ['/js/../../package.json', '/js/%2e%2e/%2e%2e/package.json', '/js/..%2f..%2fpackage.json', '/package.json', '/js/missing.js']) {
    const res = await fetch(base + path);
    assert.notEqual(res.status, 200, path);
    assert.doesNotMatch(await res.text(), /"renorm-tune"/, `${path} leaked package.json`);
  }
});
