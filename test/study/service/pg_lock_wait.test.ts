// A study lock held past the lock wait (a server suspended mid-ask, Ctrl-Z in its terminal) stalls the other servers'
// asks of that study for the wait, not until it is resumed: they go ahead without the lock, with a warning naming the
// holder, and the snapshot check still keeps them from handing a trial out twice.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { StudyService } from '../../../src/study/service.js';
import { PgStorage } from '../../../src/study/storage/postgres.js';
import { createTestDatabase, withPgClient } from '../../fixtures/pg.js';
import { baseConfig, fakeDeps } from './fakes.js';

const lockKey = (studyId: string) => `renorm-tune:study:${studyId}`;
const LOCK = 'SELECT pg_advisory_lock(hashtextextended($1, 0))';
const TRY = 'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS got';
const UNLOCK = 'SELECT pg_advisory_unlock(hashtextextended($1, 0))';

it('on PostgreSQL: asks of a study whose lock another session holds past the lock wait go ahead without it, naming the holder; once it is free they take it again', { timeout: 60_000 }, async (t) => {
  const db = await createTestDatabase('lockwait');
  if ('unavailable' in db) return t.skip(db.unavailable);
  const warnings: string[] = [];
  const storage = await PgStorage.connect(db.url, { lockWaitMs: 300, warn: (m) => warnings.push(m) });
  const service = new StudyService(storage, fakeDeps(), { watchIntervalMs: 0 });
  try {
    const study = await service.createStudy(baseConfig({ executor: 'external', baselines: false, leaseSeconds: 60, budget: { trials: 10 } }));
    await withPgClient(db.url, async (holder: pg.Client) => {
      // The suspended server: a session holding the study's lock, and doing nothing else.
      await holder.query(LOCK, [lockKey(study.id)]);
      const holderPid = ((await holder.query('SELECT pg_backend_pid() AS pid')).rows[0] as { pid: number }).pid;
      const gaveUp = (w: string | undefined) => assert.match(w ?? '', new RegExp(`study ${study.id}: another process has held its ask lock for over 0\\.3 s \\(database session ${holderPid} of '[^']*' at [^,)]+, idle for \\d+ s: suspended mid-ask, or still computing\\); asking without the lock .*; later asks go ahead without waiting while that session stays idle$`));
      // The first ask lists the study whole, the second only what changed: both ways go ahead without the lock,
      // and only the first waits for it: the holder has not moved since.
      const [first] = await service.ask(study.id, 1);
      const [second] = await service.ask(study.id, 2);
      assert.deepEqual([first!.number, second!.number], [0, 1], 'the second ask saw the first one\'s trial');
      assert.equal(warnings.length, 1, `one wait given up, not one per ask:\n${warnings.join('\n')}`);
      gaveUp(warnings[0]);

      // A holder that did something since is no longer the one waited out: it is waited for again.
      await holder.query('SELECT 1');
      await service.ask(study.id, 1);
      assert.equal(warnings.length, 2, warnings.join('\n'));
      gaveUp(warnings[1]);

      // A holder busy with a statement is working, not suspended: each ask waits for it. The ask starts once the
      // server runs the statement: one that looked before would find the holder idle since its last wait, as it was.
      const busy = holder.query('SELECT pg_sleep(5)');
      await withPgClient(db.url, async (watch: pg.Client) => {
        for (let i = 0; i < 500; i++) {
          const row = (await watch.query('SELECT state FROM pg_stat_activity WHERE pid = $1', [holderPid])).rows[0] as { state?: string } | undefined;
          if (row?.state === 'active') return;
          await new Promise((r) => setTimeout(r, 10));
        }
        assert.fail('the holder never ran its statement');
      });
      await service.ask(study.id, 1);
      await busy;
      assert.equal(warnings.length, 3, warnings.join('\n'));
      assert.match(warnings[2]!, new RegExp(`\\(database session ${holderPid} of '[^']*' at [^,)]+\\); asking without the lock \\(a concurrent ask may be computed twice, never handed out twice\\)$`));
      await service.ask(study.id, 1);
      assert.equal(warnings.length, 4, 'the next ask waited for it again');
      gaveUp(warnings[3]);

      assert.equal(((await holder.query(TRY, [lockKey(study.id)])).rows[0] as { got: boolean }).got, true, 'the holder still holds it (a nested lock)');
      await holder.query(UNLOCK, [lockKey(study.id)]);
      await holder.query(UNLOCK, [lockKey(study.id)]);

      // Free again: the next ask takes the lock and holds it while it computes.
      let heldMeanwhile: boolean | undefined;
      await storage.lockStudy(study.id, async (listed) => {
        assert.deepEqual(listed.map((x) => x.number).sort(), [0, 1, 2, 3, 4, 5]);
        heldMeanwhile = !((await holder.query(TRY, [lockKey(study.id)])).rows[0] as { got: boolean }).got;
      });
      assert.equal(heldMeanwhile, true, 'the lock was taken');
      assert.equal(warnings.length, 4, 'no warning once the lock is free');
    });
    const trials = await service.listTrials(study.id);
    assert.deepEqual(trials.map((x) => [x.number, x.state]), [0, 1, 2, 3, 4, 5].map((n) => [n, 'RUNNING']));
  } finally {
    service.close();
    await storage.close();
    await db.drop();
  }
});

it('on PostgreSQL: two servers asking while a third holds the lock past the wait hand out distinct trials, within the budget', { timeout: 60_000 }, async (t) => {
  const db = await createTestDatabase('lockrace');
  if ('unavailable' in db) return t.skip(db.unavailable);
  const stores = [await PgStorage.connect(db.url, { lockWaitMs: 200, warn: () => undefined }), await PgStorage.connect(db.url, { lockWaitMs: 200, warn: () => undefined })];
  const [a, b] = stores.map((s) => new StudyService(s, fakeDeps(), { watchIntervalMs: 0 })) as [StudyService, StudyService];
  try {
    const study = await a.createStudy(baseConfig({ executor: 'external', baselines: false, leaseSeconds: 60, budget: { trials: 7 } }));
    await withPgClient(db.url, async (holder: pg.Client) => {
      await holder.query(LOCK, [lockKey(study.id)]);
      // Without the lock both compute at once; the snapshot check makes the later insert recompute.
      const asked = await Promise.all([a.ask(study.id, 2), b.ask(study.id, 2), a.ask(study.id, 2), b.ask(study.id, 2)]);
      const numbers = asked.flat().map((x) => x.number).sort((x, y) => x - y);
      assert.deepEqual(numbers, [0, 1, 2, 3, 4, 5, 6], 'seven distinct trials for a budget of seven, none twice');
    });
  } finally {
    a.close();
    b.close();
    for (const s of stores) await s.close();
    await db.drop();
  }
});
