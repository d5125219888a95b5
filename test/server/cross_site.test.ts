// Finding 4, cross-site posts: every state-changing request must declare JSON, and a cross-site Origin or Sec-Fetch-Site is refused unless a bearer token authenticated it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createStudyService } from '../../src/study/service/defaults.js';
import { MemoryStorage } from '../../src/study/storage/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { TOKEN_COOKIE } from '../../src/server/auth.js';
import { call, start, studyConfig } from './helpers.js';
import { rawRequest } from './raw_http.js';

const TOKEN = 'correct-horse-battery';

async function withStudy(opts: { token?: string }, f: (srv: RunningServer, id: string, trials: () => Promise<number>) => Promise<void>): Promise<void> {
  const srv = await start({ api: createStudyService(new MemoryStorage()), ...opts });
  const auth: Record<string, string> = opts.token ? { authorization: `Bearer ${opts.token}` } : {};
  try {
    const id = (await call(srv.url, 'POST', '/api/studies', studyConfig('xsite', { optimizer: { type: 'random' } }), auth)).body.id;
    const trials = async () => (await call(srv.url, 'GET', `/api/studies/${id}`, undefined, auth)).body.trials.length;
    await f(srv, id, trials);
  } finally {
    await srv.close();
  }
}

const ask = (srv: RunningServer, id: string, headers: Array<[string, string]>, body?: string) => rawRequest(srv.port, { method: 'POST', path: `/api/studies/${id}/ask`, headers, body });

describe('state-changing requests must declare JSON', () => {
  it('refuses a bodiless POST /ask without Content-Type: application/json (415), and accepts it with one', async () => {
    await withStudy({}, async (srv, id, trials) => {
      for (const headers of [[], [['content-type', 'text/plain']], [['content-type', 'application/x-www-form-urlencoded']], [['content-type', 'application/jsonp']]] as Array<Array<[string, string]>>) {
        const r = await ask(srv, id, headers);
        assert.equal(r.status, 415, JSON.stringify(headers));
        assert.equal((r.json as { error: { code: string } }).error.code, 'UNSUPPORTED_MEDIA_TYPE');
      }
      assert.equal(await trials(), 0);
      for (const type of ['application/json', 'application/json; charset=utf-8', 'Application/JSON']) {
        assert.equal((await ask(srv, id, [['content-type', type]])).status, 200, type);
      }
      assert.equal(await trials(), 3);
    });
  });

  it('refuses a charset other than UTF-8 (415 UNSUPPORTED_CHARSET): the duplicate-key check reads the bytes as UTF-8', async () => {
    await withStudy({}, async (srv, id, trials) => {
      // In UTF-16 the parser would read {"count": 1, "count": 2} as 2 while the check saw no key twice.
      const body = Buffer.from('{"count": 1, "count": 2}', 'utf16le');
      for (const type of ['application/json; charset=utf-16le', 'application/json; charset=UTF-7', 'application/json; charset="latin1"', 'application/json;charset=utf8']) {
        const r = await rawRequest(srv.port, { method: 'POST', path: `/api/studies/${id}/ask`, headers: [['content-type', type]], body });
        assert.equal(r.status, 415, type);
        const error = (r.json as { error: { code: string; message: string } }).error;
        assert.equal(error.code, 'UNSUPPORTED_CHARSET');
        assert.match(error.message, /JSON bodies are UTF-8, got charset=.*\(fix: send UTF-8/);
      }
      assert.equal(await trials(), 0, 'nothing handed out');
      for (const type of ['application/json; charset=UTF-8', 'application/json; charset="utf-8"', 'application/json;charset=utf-8']) {
        assert.equal((await ask(srv, id, [['content-type', type]], '{"count": 1}')).status, 200, type);
      }
      const twice = await ask(srv, id, [['content-type', 'application/json; charset=utf-8']], '{"count": 1, "count": 2}');
      assert.equal((twice.json as { error: { code: string } }).error.code, 'INVALID_JSON');
      assert.equal(await trials(), 3);
    });
  });
});

describe('cross-site requests', () => {
  const json: [string, string] = ['content-type', 'application/json'];

  it('refuses a cross-site Origin or Sec-Fetch-Site on a POST with 403 CROSS_SITE_REQUEST, changing nothing', async () => {
    await withStudy({}, async (srv, id, trials) => {
      const refused: Array<Array<[string, string]>> = [
        [['origin', 'http://evil.example']],
        [['origin', 'null']],
        // Another port on this machine is the same site (cookies flow) but another origin.
        [['origin', 'http://127.0.0.1:1']],
        [['sec-fetch-site', 'cross-site']],
        [['sec-fetch-site', 'same-site']],
        [['origin', `http://127.0.0.1:${srv.port}`], ['sec-fetch-site', 'cross-site']],
      ];
      for (const headers of refused) {
        const r = await ask(srv, id, [json, ...headers], '{"count": 2}');
        assert.equal(r.status, 403, JSON.stringify(headers));
        assert.equal((r.json as { error: { code: string } }).error.code, 'CROSS_SITE_REQUEST', JSON.stringify(headers));
      }
      assert.equal(await trials(), 0);
    });
  });

  it('accepts same-origin posts (what the dashboard sends) and clients that send no Origin', async () => {
    await withStudy({}, async (srv, id, trials) => {
      // https: a TLS proxy in front keeps the Host; no attacker can serve https on this very host and port.
      for (const headers of [[], [['origin', `http://127.0.0.1:${srv.port}`], ['sec-fetch-site', 'same-origin']], [['sec-fetch-site', 'none']], [['origin', `https://127.0.0.1:${srv.port}`]]] as Array<Array<[string, string]>>) {
        assert.equal((await ask(srv, id, [json, ...headers], '{"count": 1}')).status, 200, JSON.stringify(headers));
      }
      assert.equal(await trials(), 4);
    });
  });

  it('lets reads through from anywhere (the browser keeps cross-origin responses from the page)', async () => {
    await withStudy({}, async (srv) => {
      assert.equal((await rawRequest(srv.port, { method: 'GET', path: '/api/studies', headers: [['origin', 'http://evil.example'], ['sec-fetch-site', 'cross-site']] })).status, 200);
    });
  });

  it('with a token, a bearer header authenticates a cross-site post, the dashboard cookie does not', async () => {
    await withStudy({ token: TOKEN }, async (srv, id, trials) => {
      const evil: [string, string] = ['origin', 'http://evil.example'];
      const withCookie = await ask(srv, id, [json, evil, ['cookie', `${TOKEN_COOKIE}=${TOKEN}`]], '{"count": 1}');
      assert.equal(withCookie.status, 403);
      assert.equal(await trials(), 0);
      const sameOriginCookie = await ask(srv, id, [json, ['origin', `http://127.0.0.1:${srv.port}`], ['cookie', `${TOKEN_COOKIE}=${TOKEN}`]], '{"count": 1}');
      assert.equal(sameOriginCookie.status, 200, 'the cookie still works same-origin');
      const bearer = await ask(srv, id, [json, evil, ['authorization', `Bearer ${TOKEN}`]], '{"count": 1}');
      assert.equal(bearer.status, 200);
      assert.equal(await trials(), 2);
    });
  });
});
