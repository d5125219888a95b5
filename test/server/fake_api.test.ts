// Runs the REST contract against the in-test fake StudyApi, plus what needs a fake: internal errors, listener cleanup.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeStudyApi } from '../fixtures/fake_api.js';
import { validateStudyConfig } from '../../src/study/config.js';
import { errorHandler, OUTAGE_LOG_MS } from '../../src/server/http_errors.js';
import { StorageUnavailableError } from '../../src/study/errors.js';
import { restContract } from './contract.js';
import { call, start } from './helpers.js';

restContract('fake StudyApi', () => ({ api: new FakeStudyApi() }));

describe('server robustness (fake StudyApi)', () => {
  it('turns an unexpected exception into 500 INTERNAL without leaking the stack, and logs it', async () => {
    const api = new FakeStudyApi();
    const logged: string[] = [];
    const srv = await start({ api, log: (m) => logged.push(m) });
    try {
      api.explode = new Error('secret /home/user/path exploded');
      const r = await call(srv.url, 'GET', '/api/studies');
      assert.equal(r.status, 500);
      assert.deepEqual(Object.keys(r.body.error).sort(), ['code', 'message']);
      assert.equal(r.body.error.code, 'INTERNAL');
      assert.doesNotMatch(JSON.stringify(r.body), /secret|exploded|at /);
      assert.equal(logged.length, 1);
      assert.match(logged[0]!, /exploded/);
      api.explode = null;
      assert.equal((await call(srv.url, 'GET', '/api/studies')).status, 200, 'the server keeps serving');
    } finally {
      await srv.close();
    }
  });

  it('logs a 503 (its database away) as one line without a stack, at most once a minute with how many more there were', async () => {
    // Every trainer's every call meets the outage while it lasts: a stack each buried the log (npm run soak).
    const api = new FakeStudyApi();
    const logged: string[] = [];
    const srv = await start({ api, log: (m) => logged.push(m) });
    try {
      api.explode = new StorageUnavailableError('postgres://db.example/tune', 'ECONNRESET');
      for (let i = 0; i < 3; i++) assert.equal((await call(srv.url, 'GET', '/api/studies')).status, 503);
      assert.deepEqual(logged, ['GET /api/studies -> 503 STORAGE_UNAVAILABLE: postgres://db.example/tune: the database is unreachable (ECONNRESET); nothing was written by this request, retry when it is back']);
    } finally {
      await srv.close();
    }
    let clock = 0;
    const lines: string[] = [];
    const handle = errorHandler((m) => lines.push(m), () => clock);
    const res = { headersSent: false, status: () => res, json: () => res } as never;
    const outage = new StorageUnavailableError('db', 'down');
    for (const at of [0, 1000, 59_000, OUTAGE_LOG_MS, OUTAGE_LOG_MS + 1]) {
      clock = at;
      handle(outage, { method: 'POST', originalUrl: '/api/studies/s/ask' } as never, res, () => undefined);
    }
    assert.equal(lines.length, 2);
    assert.match(lines[1]!, /-> 503 STORAGE_UNAVAILABLE: db: the database is unreachable \(down\).* \(and 2 more 503 answers since the last such line\)$/);
  });

  it('unsubscribes an SSE listener when the client disconnects', async () => {
    const api = new FakeStudyApi();
    const srv = await start({ api, heartbeatMs: 20 });
    try {
      const id = (await api.createStudy(validateStudyConfig({ name: 'sse', scenario: { steps: 10 }, budget: { trials: 3 } }))).id;
      const ac = new AbortController();
      const res = await fetch(`${srv.url}/api/studies/${id}/events`, { signal: ac.signal });
      const reader = res.body!.getReader();
      let text = '';
      while (!text.includes(': heartbeat')) text += new TextDecoder().decode((await reader.read()).value);
      assert.equal(api.listenerCount(id), 1);
      ac.abort();
      for (let i = 0; i < 50 && api.listenerCount(id) > 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(api.listenerCount(id), 0, 'the listener must be removed when the stream closes');
    } finally {
      await srv.close();
    }
  });
});
