// Token rules: loopback by default, no non-loopback listener without a token, 401 without the right bearer, health stays open.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/errors.js';
import { createServer, isLoopback, resolveListenOptions, tokensEqual } from '../../src/server/index.js';
import { FakeStudyApi } from '../fixtures/fake_api.js';
import { call, start, studyConfig } from './helpers.js';

const TOKEN = 'correct-horse-battery';

describe('listening rules', () => {
  it('binds to 127.0.0.1 by default', async () => {
    const srv = await createServer({ api: new FakeStudyApi(), port: 0, dashboard: false, env: {} });
    try {
      assert.equal(srv.host, '127.0.0.1');
    } finally {
      await srv.close();
    }
  });

  it('refuses to listen beyond loopback without a token, before opening any socket', async () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'example.org']) {
      assert.throws(() => resolveListenOptions({ host, env: {} }), (e: unknown) => e instanceof ConfigError && e.field === 'token' && /--token/.test(e.message), host);
    }
    await assert.rejects(createServer({ api: new FakeStudyApi(), host: '0.0.0.0', port: 0, env: {} }), ConfigError);
    assert.throws(() => resolveListenOptions({ host: '0.0.0.0', token: 'short', env: {} }), /at least 8/);
    assert.deepEqual(resolveListenOptions({ host: '0.0.0.0', env: { RENORM_TUNE_TOKEN: TOKEN } }), { host: '0.0.0.0', port: 8080, token: TOKEN }, 'the env var counts');
    assert.deepEqual(resolveListenOptions({ host: 'localhost', env: {} }), { host: 'localhost', port: 8080 });
    assert.throws(() => resolveListenOptions({ port: 70000, env: {} }), (e: unknown) => e instanceof ConfigError && e.field === 'port');
  });

  it('recognises loopback addresses only', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) assert.equal(isLoopback(h), true, h);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', 'localhost.evil.com']) assert.equal(isLoopback(h), false, h);
  });

  it('compares tokens by value, whatever their lengths', () => {
    assert.equal(tokensEqual(TOKEN, TOKEN), true);
    assert.equal(tokensEqual(TOKEN, `${TOKEN}x`), false);
    assert.equal(tokensEqual('', TOKEN), false);
  });
});

describe('with a token', () => {
  it('answers 401 UNAUTHORIZED without or with a wrong bearer, and stores nothing', async () => {
    const api = new FakeStudyApi();
    const srv = await start({ api, token: TOKEN });
    try {
      for (const headers of [{}, { authorization: 'Bearer nope-nope-nope' }, { authorization: TOKEN }, { authorization: `Basic ${TOKEN}` }] as Record<string, string>[]) {
        const r = await call(srv.url, 'POST', '/api/studies', studyConfig(), headers);
        assert.equal(r.status, 401, JSON.stringify(headers));
        assert.equal(r.body.error.code, 'UNAUTHORIZED');
        assert.match(r.headers.get('www-authenticate') ?? '', /Bearer/);
      }
      assert.equal((await api.listStudies()).length, 0);
      assert.equal((await call(srv.url, 'GET', '/api/studies')).status, 401);
      assert.equal((await call(srv.url, 'GET', '/api/nothing')).status, 401, 'unknown routes do not reveal themselves either');
      assert.equal((await call(srv.url, 'GET', '/api/health')).status, 200, 'health stays open for liveness checks');
      const ok = await call(srv.url, 'POST', '/api/studies', studyConfig(), { authorization: `Bearer ${TOKEN}` });
      assert.equal(ok.status, 201);
      const list = await call(srv.url, 'GET', '/api/studies', undefined, { authorization: `bearer ${TOKEN}` });
      assert.equal(list.status, 200);
      assert.equal(list.body.studies.length, 1);
    } finally {
      await srv.close();
    }
  });

  it('listens on 0.0.0.0 when given one', async () => {
    const srv = await createServer({ api: new FakeStudyApi(), host: '0.0.0.0', port: 0, token: TOKEN, dashboard: false, env: {} });
    try {
      const r = await call(`http://127.0.0.1:${srv.port}`, 'GET', '/api/studies');
      assert.equal(r.status, 401);
    } finally {
      await srv.close();
    }
  });
});

describe('dashboard with a token', () => {
  it('serves the pages, turns a right ?token= into a SameSite cookie the API accepts, and rejects a wrong one', async () => {
    const api = new FakeStudyApi();
    const srv = await start({ api, token: TOKEN, dashboard: true });
    try {
      const page = await fetch(`${srv.url}/`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /text\/html/);
      assert.equal((await fetch(`${srv.url}/?token=wrong-wrong-wrong`, { redirect: 'manual' })).status, 401);
      const login = await fetch(`${srv.url}/study.html?id=abc&token=${TOKEN}`, { redirect: 'manual' });
      assert.equal(login.status, 303);
      assert.equal(login.headers.get('location'), '/study.html?id=abc', 'the token leaves the URL');
      const setCookie = login.headers.get('set-cookie') ?? '';
      assert.match(setCookie, /HttpOnly/i);
      assert.match(setCookie, /SameSite=Strict/i);
      const cookie = setCookie.split(';')[0]!;
      assert.equal((await call(srv.url, 'GET', '/api/studies', undefined, { cookie })).status, 200);
      assert.equal((await call(srv.url, 'GET', '/api/studies', undefined, { cookie: 'renorm_tune_token=nope-nope-nope' })).status, 401);
      const open = await fetch(`${srv.url}//evil.example/?token=${TOKEN}`, { redirect: 'manual' });
      assert.doesNotMatch(open.headers.get('location') ?? '', /^\/\//, 'no protocol-relative redirect');
    } finally {
      await srv.close();
    }
  });
});

describe('with a read token beside the token', () => {
  const READ = 'viewer-only-secret';
  it('lets the read token GET (the API, the dashboard\'s cookie, /metrics) and refuses it every write with 403, storing nothing', async () => {
    const api = new FakeStudyApi();
    const srv = await start({ api, token: TOKEN, readToken: READ, dashboard: true });
    try {
      const writer = { authorization: `Bearer ${TOKEN}` };
      const reader = { authorization: `Bearer ${READ}` };
      const created = await call(srv.url, 'POST', '/api/studies', studyConfig(), writer);
      assert.equal(created.status, 201);
      const id = created.body.id as string;
      assert.equal((await call(srv.url, 'GET', '/api/studies', undefined, reader)).body.studies.length, 1);
      assert.equal((await call(srv.url, 'GET', `/api/studies/${id}`, undefined, reader)).status, 200);
      assert.equal((await fetch(`${srv.url}/metrics`, { headers: reader })).status, 200);
      const before = JSON.stringify(await api.listStudies());
      for (const [method, path, body] of [
        ['POST', '/api/studies', studyConfig('second')], ['POST', `/api/studies/${id}/ask`, {}], ['POST', `/api/studies/${id}/stop`, {}], ['DELETE', `/api/studies/${id}`, undefined],
      ] as const) {
        const r = await call(srv.url, method, path, body, reader);
        assert.equal(r.status, 403, `${method} ${path}`);
        assert.equal(r.body.error.code, 'READ_ONLY_TOKEN');
        assert.match(r.body.error.message, new RegExp(`may only read .*; ${method} ${path.replace(/[/]/g, '\\/')} needs the --token one`));
      }
      assert.equal(JSON.stringify(await api.listStudies()), before, 'nothing written');
      // The dashboard opened with the read token's link reads, and cannot write through its cookie either.
      const login = await fetch(`${srv.url}/?token=${READ}`, { redirect: 'manual' });
      assert.equal(login.status, 303);
      const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
      assert.equal((await call(srv.url, 'GET', '/api/studies', undefined, { cookie })).status, 200);
      assert.equal((await call(srv.url, 'POST', `/api/studies/${id}/stop`, {}, { cookie })).body.error.code, 'READ_ONLY_TOKEN');
      // The token still writes; a wrong one is still 401.
      assert.equal((await call(srv.url, 'POST', `/api/studies/${id}/stop`, {}, writer)).status, 200);
      assert.equal((await call(srv.url, 'GET', '/api/studies', undefined, { authorization: 'Bearer viewer-only-secreT' })).status, 401);
    } finally {
      await srv.close();
    }
  });

  it('is refused at start when short, equal to the token, or given without one', () => {
    const refused = (opts: Parameters<typeof resolveListenOptions>[0], message: RegExp) =>
      assert.throws(() => resolveListenOptions({ env: {}, ...opts }), (e: unknown) => e instanceof ConfigError && e.field === 'read-token' && message.test(e.message), message.source);
    refused({ token: TOKEN, readToken: 'short' }, /at least 8/);
    refused({ token: TOKEN, readToken: TOKEN }, /is the same as --token, so it could write/);
    refused({ readToken: READ }, /needs a --token as well/);
    assert.deepEqual(resolveListenOptions({ env: { RENORM_TUNE_TOKEN: TOKEN, RENORM_TUNE_READ_TOKEN: READ } }), { host: '127.0.0.1', port: 8080, token: TOKEN, readToken: READ });
  });
});
