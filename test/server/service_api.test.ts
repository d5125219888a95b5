// Runs the REST contract against the real StudyService (real optimizer, export) over MemoryStorage and SQLite.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStudyService } from '../../src/study/service/defaults.js';
import { MemoryStorage, SqliteStorage } from '../../src/study/storage/index.js';
import { restContract } from './contract.js';
import { call, snapshot, start, studyConfig } from './helpers.js';

restContract('StudyService over MemoryStorage', () => ({ api: createStudyService(new MemoryStorage()) }));

const dir = mkdtempSync(join(tmpdir(), 'renorm-server-'));
after(() => rmSync(dir, { recursive: true, force: true }));
restContract('StudyService over SqliteStorage', () => ({ api: createStudyService(new SqliteStorage(join(dir, 'api.db'))) }));

describe('two servers over one SQLite file (two connections, like two processes)', () => {
  it('of 8 tells to one trial split across both servers, exactly one wins', async () => {
    const file = join(dir, 'shared.db');
    const [sa, sb] = [new SqliteStorage(file), new SqliteStorage(file)];
    const [a, b] = [await start({ api: createStudyService(sa) }), await start({ api: createStudyService(sb) })];
    try {
      const id = (await call(a.url, 'POST', '/api/studies', studyConfig('shared'))).body.id;
      const trial = (await call(a.url, 'POST', `/api/studies/${id}/ask`, { count: 1 })).body.trials[0].number;
      const replies = await Promise.all(Array.from({ length: 8 }, (_, i) =>
        call(i % 2 ? a.url : b.url, 'POST', `/api/studies/${id}/trials/${trial}/tell`, { value: i / 10 })));
      assert.deepEqual(replies.map((r) => r.status).sort(), [200, 409, 409, 409, 409, 409, 409, 409]);
      const winner = replies.find((r) => r.status === 200)!.body.trial.value;
      for (const srv of [a, b]) {
        const view = await call(srv.url, 'GET', `/api/studies/${id}`);
        assert.equal(view.body.trials[0].value, winner, 'both servers see the one stored outcome');
      }
    } finally {
      await Promise.all([a.close(), b.close()]);
      await sa.close();
      await sb.close();
    }
  });
});

describe('trial budget of an external study over HTTP', () => {
  it('grants what is left of budget.trials, then answers 409 BUDGET_EXHAUSTED and writes nothing', async () => {
    const api = createStudyService(new MemoryStorage());
    const srv = await start({ api });
    try {
      const id = (await call(srv.url, 'POST', '/api/studies', studyConfig('budgeted', { budget: { trials: 3 }, optimizer: { type: 'random' } }))).body.id;
      const first = await call(srv.url, 'POST', `/api/studies/${id}/ask`, { count: 2 });
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.equal(first.body.trials.length, 2);
      const partial = await call(srv.url, 'POST', `/api/studies/${id}/ask`, { count: 2 });
      assert.equal(partial.status, 200, JSON.stringify(partial.body));
      assert.equal(partial.body.trials.length, 1, 'only the one trial left');
      const before = await snapshot(api);
      const refused = await call(srv.url, 'POST', `/api/studies/${id}/ask`, { count: 1 });
      assert.equal(refused.status, 409, JSON.stringify(refused.body));
      assert.equal(refused.body.error.code, 'BUDGET_EXHAUSTED');
      assert.match(refused.body.error.message, /budget\.trials = 3/);
      assert.equal(await snapshot(api), before, 'a refused ask changes nothing');
      const view = await call(srv.url, 'GET', `/api/studies/${id}`);
      assert.equal(view.body.trials.length, 3);
      assert.equal(view.body.budgetTrials, 3);
    } finally {
      await srv.close();
    }
  });
});

describe('live events across processes (two connections to one SQLite file)', () => {
  it('a server\'s event stream shows asks and tells made through another server', async () => {
    const file = join(dir, 'live.db');
    // b plays the `renorm-tune run` process, a the separate `renorm-tune serve` with the dashboard open.
    const [sa, sb] = [new SqliteStorage(file), new SqliteStorage(file)];
    const [a, b] = [await start({ api: createStudyService(sa) }), await start({ api: createStudyService(sb) })];
    const ac = new AbortController();
    try {
      const id = (await call(b.url, 'POST', '/api/studies', studyConfig('live'))).body.id;
      const res = await fetch(`${a.url}/api/studies/${id}/events`, { signal: ac.signal });
      assert.equal(res.status, 200);
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let text = '';
      const waitFor = async (re: RegExp, ms: number, from = 0) => {
        const deadline = setTimeout(() => ac.abort(), ms);
        try {
          while (!re.test(text.slice(from))) {
            const { value, done } = await reader.read();
            if (done) throw new Error(`stream ended before ${re}: ${text}`);
            text += decoder.decode(value, { stream: true });
          }
        } catch (err) {
          throw new Error(`no ${re} within ${ms} ms on a's stream (got: ${JSON.stringify(text)}): ${String(err)}`);
        } finally {
          clearTimeout(deadline);
        }
      };
      await waitFor(/: connected/, 2000);
      const trial = (await call(b.url, 'POST', `/api/studies/${id}/ask`, { count: 1 })).body.trials[0].number;
      await waitFor(/event: trial\ndata: [^\n]*"state":"RUNNING"/, 5000);
      const seen = text.length;
      await call(b.url, 'POST', `/api/studies/${id}/trials/${trial}/tell`, { value: 0.7 });
      await waitFor(/event: trial\ndata: [^\n]*"state":"COMPLETE"[^\n]*"value":0.7/, 5000, seen);
      const view = await call(a.url, 'GET', `/api/studies/${id}`);
      assert.equal(view.body.trials[0].state, 'COMPLETE', 'the event is followed by a view that has the change');
    } finally {
      ac.abort();
      await Promise.all([a.close(), b.close()]);
      await sa.close();
      await sb.close();
    }
  });
});

describe('a deleted study ends its event streams', () => {
  /** The whole stream, until the server ends it; fails after 10 s. */
  async function untilEnd(res: Response, ac: AbortController): Promise<string> {
    const deadline = setTimeout(() => ac.abort(), 10_000);
    const decoder = new TextDecoder();
    const reader = res.body!.getReader();
    let text = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return text;
        text += decoder.decode(value, { stream: true });
      }
    } catch (err) {
      throw new Error(`the stream did not end within 10 s (got: ${JSON.stringify(text)}): ${String(err)}`);
    } finally {
      clearTimeout(deadline);
    }
  }

  for (const where of ['this server', 'another server over the same SQLite file']) {
    it(`deleted through ${where}: the stream's last event is \`deleted\`, then it ends, and a reconnect is a 404`, async () => {
      const file = join(dir, `deleted-${where.length}.db`);
      const [sa, sb] = [new SqliteStorage(file), new SqliteStorage(file)];
      const [a, b] = [await start({ api: createStudyService(sa) }), await start({ api: createStudyService(sb) })];
      const ac = new AbortController();
      try {
        const id = (await call(a.url, 'POST', '/api/studies', studyConfig('doomed'))).body.id;
        await call(a.url, 'POST', `/api/studies/${id}/ask`, { count: 1 });
        const res = await fetch(`${a.url}/api/studies/${id}/events`, { signal: ac.signal });
        assert.equal(res.status, 200);
        const ended = untilEnd(res, ac);
        const deleted = await call(where === 'this server' ? a.url : b.url, 'DELETE', `/api/studies/${id}`);
        assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
        const text = await ended;
        const events = text.split('\n\n').filter((block) => block.startsWith('event:'));
        assert.equal(events.at(-1), `event: deleted\ndata: ${JSON.stringify({ type: 'deleted', studyId: id })}`, text);
        assert.equal(events.filter((e) => e.startsWith('event: deleted')).length, 1, 'told once');
        const again = await fetch(`${a.url}/api/studies/${id}/events`);
        assert.equal(again.status, 404);
        assert.equal(((await again.json()) as { error: { code: string } }).error.code, 'NOT_FOUND');
      } finally {
        ac.abort();
        await Promise.all([a.close(), b.close()]);
        await sa.close();
        await sb.close();
      }
    });
  }
});

describe('a trial number the study does not have', () => {
  it('is a 404 naming the study and the numbers it has, on report and tell alike (it was "trial #99999999 of study \'x\' not found")', async () => {
    const srv = await start({ api: createStudyService(new MemoryStorage()) });
    try {
      const id = (await call(srv.url, 'POST', '/api/studies', studyConfig('numbered', { optimizer: { type: 'random' } }))).body.id;
      const none = await call(srv.url, 'POST', `/api/studies/${id}/trials/0/tell`, { value: 0.5 });
      assert.equal(none.status, 404, JSON.stringify(none.body));
      assert.match(none.body.error.message, /^study 'numbered' has no trial #0; it has no trials yet \(fix: /);
      await call(srv.url, 'POST', `/api/studies/${id}/ask`, { count: 1 });
      const one = await call(srv.url, 'POST', `/api/studies/numbered/trials/7/report`, { step: 1, value: 0.5 });
      assert.match(one.body.error.message, /^study 'numbered' has no trial #7; its only trial is #0 \(fix: /);
      await call(srv.url, 'POST', `/api/studies/${id}/ask`, { count: 3 });
      for (const [method, path] of [['tell', '99999999'], ['report', '99999999'], ['tell', '4']]) {
        const r = await call(srv.url, 'POST', `/api/studies/${id}/trials/${path}/${method}`, method === 'tell' ? { value: 0.5 } : { step: 1, value: 0.5 });
        assert.equal(r.status, 404, JSON.stringify(r.body));
        assert.equal(r.body.error.code, 'NOT_FOUND');
        assert.equal(r.body.error.message, `study 'numbered' has no trial #${path}; its trials are #0-#3 (fix: use a number ask returned, or GET /api/studies/numbered to list them)`);
      }
      const huge = await call(srv.url, 'POST', `/api/studies/${id}/trials/99999999999999999999/tell`, { value: 0.5 });
      assert.equal(huge.status, 404);
      assert.match(huge.body.error.message, /^study 'numbered' has no trial numbered beyond 2\^53; its trials are #0-#3/);
    } finally {
      await srv.close();
    }
  });
});

describe('an outside trainer keeps a trial alive (POST .../heartbeat) and hands it back (POST .../release) over HTTP', () => {
  for (const [name, storage] of [['memory', () => new MemoryStorage()], ['SQLite', () => new SqliteStorage(join(dir, 'release.db'))]] as const) {
    it(`${name}: only the lease holder may; a heartbeat renews the lease; a handed-back trial is queued again, without its reports, for the next ask under a new token`, async () => {
      const api = createStudyService(storage());
      const srv = await start({ api });
      try {
        const id = (await call(srv.url, 'POST', '/api/studies', studyConfig('handed-back', { optimizer: { type: 'random' } }))).body.id;
        const [t] = (await call(srv.url, 'POST', `/api/studies/${id}/ask`, { count: 1 })).body.trials;
        const token = t.lease.token as number;
        const path = `/api/studies/${id}/trials/${t.number}`;
        assert.equal((await call(srv.url, 'POST', `${path}/report`, { step: 10, value: 0.5, token })).status, 200);
        // A heartbeat renews the lease for the study's leaseSeconds (an external study's 3,600 s) from now.
        const expires = (await call(srv.url, 'GET', path)).body.trial.lease.expiresAt as string;
        await new Promise((r) => setTimeout(r, 20));
        const beat = await call(srv.url, 'POST', `${path}/heartbeat`, { token });
        assert.equal(beat.status, 200, JSON.stringify(beat.body));
        assert.equal(beat.body.lease.token, token);
        assert.ok(Date.parse(beat.body.lease.expiresAt) > Date.parse(expires), `${beat.body.lease.expiresAt} after ${expires}`);
        assert.ok(Math.abs(Date.parse(beat.body.lease.expiresAt) - Date.now() - 3_600_000) < 60_000);
        assert.equal((await call(srv.url, 'GET', path)).body.trial.lease.expiresAt, beat.body.lease.expiresAt, 'stored');
        const staleBeat = await call(srv.url, 'POST', `${path}/heartbeat`, { token: token + 1 });
        assert.deepEqual([staleBeat.status, staleBeat.body.error.code], [409, 'LEASE_LOST']);
        const before = await snapshot(api);
        for (const [wrong, why] of [[token + 1, /token \d+ was never issued/], [token - 1 || 99, /token/]] as const) {
          const r = await call(srv.url, 'POST', `${path}/release`, { token: wrong });
          assert.equal(r.status, 409, JSON.stringify(r.body));
          assert.equal(r.body.error.code, 'LEASE_LOST');
          assert.match(r.body.error.message, why);
        }
        assert.equal(await snapshot(api), before, 'a refused hand-back changes nothing');
        const released = await call(srv.url, 'POST', `${path}/release`, { token });
        assert.equal(released.status, 200, JSON.stringify(released.body));
        assert.equal(released.body.trial.state, 'WAITING');
        assert.equal(released.body.trial.lease, null);
        assert.equal(released.body.trial.retries, 0, 'a hand-back is not a failure: no retry counted');
        assert.deepEqual(released.body.trial.intermediate, [], 'its reports are dropped: the next run starts over');
        const again = await call(srv.url, 'POST', `${path}/release`, { token });
        assert.deepEqual([again.status, again.body.error.code], [409, 'LEASE_LOST'], 'handed back once is enough');
        const lateBeat = await call(srv.url, 'POST', `${path}/heartbeat`, { token });
        assert.deepEqual([lateBeat.status, lateBeat.body.error.code], [409, 'LEASE_LOST'], 'nor keep it alive');
        const late = await call(srv.url, 'POST', `${path}/tell`, { value: 0.7, token });
        assert.deepEqual([late.status, late.body.error.code], [409, 'LEASE_LOST'], 'the old holder cannot tell it any more');
        const [next] = (await call(srv.url, 'POST', `/api/studies/${id}/ask`, { count: 1 })).body.trials;
        assert.equal(next.number, t.number, 'the next ask hands the queued trial out first');
        assert.deepEqual(next.params, t.params);
        assert.ok(next.lease.token > token, 'under a new token');
        const told = await call(srv.url, 'POST', `${path}/tell`, { value: 0.7, token: next.lease.token });
        assert.equal(told.body.trial.state, 'COMPLETE');
        const done = await call(srv.url, 'POST', `${path}/release`, { token: next.lease.token });
        assert.deepEqual([done.status, done.body.error.code], [409, 'CONFLICT'], 'a finished trial has nothing to hand back');
        assert.match(done.body.error.message, /already finished \(COMPLETE\)/);
      } finally {
        await srv.close();
      }
    });
  }
});
