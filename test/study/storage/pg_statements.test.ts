// PostgreSQL's one-statement paths (an ask's insert, a finish, the incremental listing) against a real server: they
// must keep every rule the transaction path keeps (numbers, seeds, budget, snapshot, lock order, tokens), and hand
// the odd case to it. Skipped, never passed, without a server.
import { describe, it, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { BudgetExhaustedError, LeaseLostError, StaleSnapshotError, TrialNotRunningError } from '../../../src/study/errors.js';
import { trialSeed } from '../../../src/study/seeds.js';
import { PgStorage } from '../../../src/study/storage/postgres.js';
import { PG_MIGRATIONS, SCHEMA, migrate } from '../../../src/study/storage/pg_migrations.js';
import type { NewTrial, TrialRecord } from '../../../src/study/types.js';
import { newTrial } from './conformance.js';
import { createTestDatabase, withPgClient } from '../../fixtures/pg.js';

const db = await createTestDatabase('statements');
const unavailable: string | null = 'unavailable' in db ? db.unavailable : null;
const URL_ = 'unavailable' in db ? '' : db.url;
after(async () => {
  if (!('unavailable' in db)) await db.drop();
});
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const lease = (owner = 'w') => ({ owner, seconds: 60 });

/** Counts the asks the one-statement insert served (null from it: handed to the transaction path). */
function spyAtSnapshot(s: PgStorage): { served: number; handed: number } {
  const counts = { served: 0, handed: 0 };
  const target = s as unknown as { createAtSnapshot: (...a: unknown[]) => Promise<TrialRecord[] | null> };
  const real = target.createAtSnapshot.bind(s);
  target.createAtSnapshot = async (...a) => {
    const out = await real(...a);
    if (out) counts.served++;
    else counts.handed++;
    return out;
  };
  return counts;
}

if (unavailable) {
  // Skipped tests, not a skipped suite: the run's summary counts them.
  describe('PgStorage one-statement paths', () => {
    it('keeps every rule of the transaction path, against a real server', { skip: unavailable }, () => {});
  });
} else {
  describe('PgStorage one-statement paths', () => {
    const open: PgStorage[] = [];
    const connect = async () => {
      const s = await PgStorage.connect(URL_);
      open.push(s);
      return s;
    };
    beforeEach(async () => {
      for (const s of open.splice(0)) await s.close();
      await withPgClient(URL_, (c) => c.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`));
    });
    after(async () => {
      for (const s of open.splice(0)) await s.close();
    });

    it('inserts an ask from a current snapshot in one statement, with the numbers and seeds the transaction path gives', async () => {
      const s = await connect();
      const spy = spyAtSnapshot(s);
      // Seeds as seedFor reads them: safe integers (in and beyond the one-statement range), and what reads as 0.
      for (const seed of [0, 123, -5, 2 ** 31 - 1, 2 ** 31 + 5, 2 ** 40, 1.5, '7', null]) {
        const st = await s.createStudy({ name: `seed-${String(seed)}`, direction: 'maximize', config: { seed } });
        const first = await s.createTrials(st.id, [newTrial(), newTrial({ seed: 9 })], { snapshot: 0, budget: 10 });
        const second = await s.createTrials(st.id, [newTrial({ state: 'RUNNING', lease: lease() })], { snapshot: 2, budget: 10 });
        const studySeed = typeof seed === 'number' && Number.isSafeInteger(seed) ? seed : 0;
        assert.deepEqual([...first, ...second].map((t) => [t.number, t.seed]), [[0, trialSeed(studySeed, 0)], [1, 9], [2, trialSeed(studySeed, 2)]], `study seed ${String(seed)}`);
        assert.equal(second[0]!.lease?.token, 1);
        assert.ok(second[0]!.startedAt && Date.parse(second[0]!.lease!.expiresAt) > Date.now() + 50_000);
      }
      assert.equal(spy.served, 2 * 7, 'every study seed a JavaScript double holds exactly goes in at once');
      assert.equal(spy.handed, 2 * 2, 'seeds beyond 2^31 take the transaction path');
    });

    it('answers a stale or over-budget ask as the transaction path does', async () => {
      const s = await connect();
      const spy = spyAtSnapshot(s);
      const st = await s.createStudy({ name: 'b', direction: 'maximize', config: {} });
      await s.createTrials(st.id, [newTrial({ role: 'baseline:paper' }), newTrial({ role: 'final:best' }), newTrial({ role: 'warm-start', state: 'COMPLETE', value: 1 })]);
      await assert.rejects(s.createTrials(st.id, [newTrial()], { snapshot: 2, budget: 5 }), StaleSnapshotError, 'a snapshot behind the study');
      await assert.rejects(s.createTrials(st.id, [newTrial()], { snapshot: 4, budget: 5 }), StaleSnapshotError, 'a snapshot ahead of the study leaves no gap');
      const got = await s.createTrials(st.id, [newTrial(), newTrial(), newTrial(), newTrial({ role: 'final:paper' }), newTrial()], { snapshot: 3, budget: 4 });
      assert.deepEqual(got.map((t) => [t.number, t.role]), [[3, 'search'], [4, 'search'], [5, 'search'], [6, 'final:paper']], 'a partial grant cuts after the last trial that fits (1 baseline + 3)');
      await assert.rejects(s.createTrials(st.id, [newTrial()], { snapshot: 7, budget: 4 }), BudgetExhaustedError);
      assert.equal((await s.createTrials(st.id, [newTrial({ role: 'final:x' })], { snapshot: 7, budget: 4 })).length, 1, 'a free run needs no budget');
      assert.deepEqual([spy.served, spy.handed], [1, 4]);
    });

    it('holds the budget and the numbering exactly under concurrent asks from two connections', async () => {
      const [a, b] = [await connect(), await connect()];
      const st = await a.createStudy({ name: 'c', direction: 'maximize', config: {} });
      const ask = async (s: PgStorage): Promise<number> => {
        for (;;) {
          const snapshot = (await s.listTrials(st.id, { withIntermediate: false })).length;
          try {
            return (await s.createTrials(st.id, [newTrial(), newTrial()], { snapshot, budget: 15 })).length;
          } catch (err) {
            if (err instanceof BudgetExhaustedError) return 0;
            if (!(err instanceof StaleSnapshotError)) throw err;
          }
        }
      };
      const granted = await Promise.all(Array.from({ length: 12 }, (_, i) => ask(i % 2 ? a : b)));
      assert.equal(granted.reduce((x, y) => x + y, 0), 15);
      const numbers = (await b.listTrials(st.id)).map((t) => t.number);
      assert.deepEqual(numbers, Array.from({ length: 15 }, (_, i) => i), 'dense, each number once');
    });

    it('takes the study\'s lock before the trial\'s, on an insert and on a finish', async () => {
      const s = await connect();
      const st = await s.createStudy({ name: 'l', direction: 'maximize', config: {} });
      const [t] = await s.createTrials(st.id, [newTrial({ state: 'RUNNING', lease: lease() })]);
      await withPgClient(URL_, async (c) => {
        await c.query('BEGIN');
        await c.query(`SELECT 1 FROM ${SCHEMA}.studies WHERE id = $1 FOR UPDATE`, [st.id]);
        const insert = s.createTrials(st.id, [newTrial()], { snapshot: 1 }).then(() => 'done');
        const finish = s.finishTrial(st.id, t!.id, { state: 'COMPLETE', value: 1 }, { token: 1 }).then(() => 'done');
        assert.equal(await Promise.race([insert, sleep(300).then(() => 'waiting')]), 'waiting');
        assert.equal(await Promise.race([finish, sleep(50).then(() => 'waiting')]), 'waiting');
        // Holding the trial's row too: a writer that locked the trial first would deadlock with us here.
        await c.query(`SELECT 1 FROM ${SCHEMA}.trials WHERE id = $1 FOR UPDATE`, [t!.id]);
        await c.query('COMMIT');
        assert.deepEqual(await Promise.all([insert, finish]), ['done', 'done']);
      });
    });

    it('refuses a finish under a stale token, honours a prune request, and finishes a trial only once', async () => {
      const s = await connect();
      const st = await s.createStudy({ name: 'f', direction: 'maximize', config: {} });
      const [a, b] = await s.createTrials(st.id, [newTrial(), newTrial()]);
      const first = (await s.claimTrial(st.id, a!.id, lease('x')))!;
      await s.releaseTrial(st.id, a!.id, first.token);
      const second = (await s.claimTrial(st.id, a!.id, lease('y')))!;
      await assert.rejects(s.finishTrial(st.id, a!.id, { state: 'COMPLETE', value: 1 }, { token: first.token }), LeaseLostError);
    for (const token of [2 ** 40, 1.5, -1]) {
      await assert.rejects(s.finishTrial(st.id, a!.id, { state: 'COMPLETE', value: 1 }, { token }), LeaseLostError, `token ${token} is a lost lease, not a server error`);
    }
      await s.addIntermediate(st.id, a!.id, { step: 3, value: 0.25 });
      await s.requestPrune(st.id, a!.id);
      const done = await s.finishTrial(st.id, a!.id, { state: 'COMPLETE', value: 0.5 }, { token: second.token, honourPrune: true });
      assert.deepEqual([done.state, done.value, done.lease, done.intermediate], ['PRUNED', 0.5, null, [{ step: 3, value: 0.25 }]]);
      // The one statement finishes only a RUNNING trial; a queued one goes to the transaction path for its error.
      await assert.rejects(s.finishTrial(st.id, b!.id, { state: 'FAIL', failureReason: 'oom' }), TrialNotRunningError);
      await s.claimTrial(st.id, b!.id, lease('z'));
      const failed = await s.finishTrial(st.id, b!.id, { state: 'FAIL', failureReason: 'oom' });
      assert.deepEqual([failed.state, failed.failureReason, failed.startedAt !== null], ['FAIL', 'oom', true]);
      await assert.rejects(s.finishTrial(st.id, b!.id, { state: 'COMPLETE', value: 1 }), /already finished \(FAIL\)/);
    });

    it('lists a change written by hand in SQL, and a study whose trials predate the revision stamps', async () => {
      const s = await connect();
      const st = await s.createStudy({ name: 'h', direction: 'maximize', config: {} });
      const [t] = await s.createTrials(st.id, [newTrial()]);
      assert.equal((await s.listTrials(st.id, { withIntermediate: false }))[0]!.params.warmup, 0.1);
      await withPgClient(URL_, (c) => c.query(`UPDATE ${SCHEMA}.trials SET params = '{"warmup": 0.3}' WHERE id = $1`, [t!.id]));
      assert.equal((await s.listTrials(st.id, { withIntermediate: false }))[0]!.params.warmup, 0.3);
      await s.deleteStudy(st.id);
      assert.deepEqual(await s.listTrials(st.id, { withIntermediate: false }), [], 'a deleted study lists nothing');
    });

    it('migrates trials written before the budget and revision columns: charged by role, listed whole', async () => {
      await withPgClient(URL_, async (c) => {
        await migrate(c, 'here', { migrate: true, mustExist: false }, PG_MIGRATIONS.filter((m) => m.version <= 2));
        await c.query(`INSERT INTO ${SCHEMA}.studies (id, name, direction, state, config) VALUES ('old', 'old', 'maximize', 'RUNNING', '{}')`);
        const roles = ['search', 'enqueued', 'baseline:paper', 'final:best', 'race:3', 'warm-start', 'race:x'];
        for (const [i, role] of roles.entries()) {
          await c.query(`INSERT INTO ${SCHEMA}.trials (study_id, number, state, role, params, schedule, seed) VALUES ('old', $1, 'WAITING', $2, '{}', '{"kind":"batchnorm"}', 1)`, [i, role]);
        }
      });
      const s = await connect();
      const charged = await withPgClient(URL_, (c) => c.query(`SELECT role, charged, rev FROM ${SCHEMA}.trials ORDER BY number`));
      assert.deepEqual(charged.rows.map((r: { role: string; charged: boolean }) => [r.role, r.charged]),
        [['search', true], ['enqueued', true], ['baseline:paper', true], ['final:best', false], ['race:3', false], ['warm-start', false], ['race:x', true]]);
      assert.equal((await s.listTrials('old', { withIntermediate: false })).length, 7);
      const more: NewTrial[] = [newTrial(), newTrial()];
      assert.equal((await s.createTrials('old', more, { snapshot: 7, budget: 6 })).length, 2, '4 charged trials + 2 = the budget of 6');
      await assert.rejects(s.createTrials('old', [newTrial()], { snapshot: 9, budget: 6 }), BudgetExhaustedError);
      assert.equal((await s.listTrials('old', { withIntermediate: false })).length, 9);
    });
  });
}
