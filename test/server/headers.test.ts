// Finding 6: nosniff, Referrer-Policy and the CSP on every response, and the dashboard serves browser modules only (no source maps unless asked); the API names its version.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createStudyService } from '../../src/study/service/defaults.js';
import { MemoryStorage } from '../../src/study/storage/index.js';
import type { RunningServer, ServerOptions } from '../../src/server/index.js';
import { start } from './helpers.js';
import { rawRequest } from './raw_http.js';
import { VERSION_HEADER } from '../../src/shared/names.js';

async function withServer(opts: Partial<ServerOptions>, f: (srv: RunningServer) => Promise<void>): Promise<void> {
  const srv = await start({ api: createStudyService(new MemoryStorage()), dashboard: true, ...opts });
  try {
    await f(srv);
  } finally {
    await srv.close();
  }
}

describe('security headers', () => {
  it('are on API JSON, errors, pages, scripts and styles', async () => {
    await withServer({}, async (srv) => {
      for (const [path, status] of [['/api/health', 200], ['/api/studies', 200], ['/api/studies/nope', 404], ['/', 200], ['/study.html', 200], ['/style.css', 200],
        ['/js/study.js', 200], ['/js/ui/api.js', 200], ['/vendor/chart.umd.js', 200], ['/missing', 404]] as const) {
        const res = await fetch(srv.url + path);
        assert.equal(res.status, status, path);
        assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
        assert.equal(res.headers.get('referrer-policy'), 'no-referrer', path);
        assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'.*frame-ancestors 'none'/, path);
        await res.arrayBuffer();
      }
    });
  });

  it('are on the raw answers to requests Node\'s parser refuses', async () => {
    await withServer({}, async (srv) => {
      const r = await rawRequest(srv.port, { method: 'GET', path: '/', headers: [['x-big', 'a'.repeat(20_000)]] });
      assert.equal(r.status, 431);
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
      assert.ok(r.headers['content-security-policy']);
    });
  });
});

describe('dashboard files', () => {
  it('serves no source maps or declaration files in production', async () => {
    await withServer({}, async (srv) => {
      for (const path of ['/js/study.js.map', '/js/ui/api.js.map', '/js/study.d.ts', '/js/types.d.ts.map']) {
        const res = await fetch(srv.url + path);
        assert.equal(res.status, 404, path);
        assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'NOT_FOUND');
      }
    });
  });

  it('serves the source maps with sourceMaps: true (development)', async () => {
    await withServer({ sourceMaps: true }, async (srv) => {
      const res = await fetch(`${srv.url}/js/study.js.map`);
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { version: number }).version, 3);
      assert.equal((await fetch(`${srv.url}/js/study.d.ts`)).status, 404, 'declarations stay hidden');
    });
  });
});

describe('the version header', () => {
  it('names the server\'s version on every /api answer, refusals included, and on nothing else', async () => {
    await withServer({ version: '7.3.1', token: 'tok-12345678' }, async (srv) => {
      for (const [path, status] of [['/api/health', 200], ['/api/studies', 401], ['/api/nope', 401]] as const) {
        const res = await fetch(srv.url + path);
        assert.equal(res.status, status, path);
        assert.equal(res.headers.get(VERSION_HEADER), '7.3.1', path);
        await res.arrayBuffer();
      }
      const authed = await fetch(`${srv.url}/api/studies/nope`, { headers: { authorization: 'Bearer tok-12345678' } });
      assert.equal(authed.status, 404);
      assert.equal(authed.headers.get(VERSION_HEADER), '7.3.1');
      const page = await fetch(`${srv.url}/style.css`);
      assert.equal(page.headers.get(VERSION_HEADER), null, 'the dashboard\'s files do not say it');
      await page.arrayBuffer();
    });
  });

  it('is left out by a server given no version', async () => {
    await withServer({}, async (srv) => {
      const res = await fetch(`${srv.url}/api/health`);
      assert.equal(res.headers.get(VERSION_HEADER), null);
      await res.arrayBuffer();
    });
  });
});
