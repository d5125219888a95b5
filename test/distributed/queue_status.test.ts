// `renorm-tune queue`: the live coordinators and workers of a queue and its jobs, read from the real Redis while a
// coordinator and a worker run a study; a worker of another build is marked and its slots not counted.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { THIS_BUILD } from '../../src/distributed/compat.js';
import type { QueueStatus } from '../../src/distributed/status.js';
import { validateStudyConfig } from '../../src/study/config.js';
import { createStudyService } from '../../src/study/service/defaults.js';
import { openStorage } from '../../src/study/storage/index.js';
import { cli, exitOf, REDIS_URL, redisSkip, Scene, until } from './helpers.js';

const skip = await redisSkip();
const scenes: Scene[] = [];
after(async () => {
  for (const s of scenes) await s.cleanup();
});

async function status(s: Scene, extra: string[] = []): Promise<{ code: number | null; out: string }> {
  return exitOf(cli(['queue', '--redis', s.redis, '--redis-prefix', s.prefix, ...extra]), 30_000);
}

async function statusJson(s: Scene): Promise<QueueStatus> {
  const r = await status(s, ['--json']);
  assert.equal(r.code, 0, r.out);
  return JSON.parse(r.out) as QueueStatus;
}

test('shows the coordinator with its study, the worker with its slots, a job taken while a trial trains, and nobody once they left', { skip, timeout: 120_000 }, async () => {
  const s = await Scene.create('sqlite', 'watched-queue', { scenario: { steps: 200, evalInterval: 50 }, budget: { trials: 3 }, finalValidation: { seeds: 0, race: { candidates: 1 } } }, 15);
  scenes.push(s);
  const empty = await statusJson(s);
  assert.deepEqual([empty.coordinators, empty.workers, empty.slots, empty.jobs], [[], [], 0, { waiting: 0, active: 0, delayed: 0 }]);

  const coordinator = s.coordinator();
  await until('the study in the database', async () => (await s.read()).study);
  const worker = s.worker(['--concurrency', '2']);
  const busy = await until('a job taken while a trial trains', async () => {
    const st = await statusJson(s);
    return st.jobs.active > 0 && st.workers.length === 1 && st;
  }, 60_000, 200);
  const { study } = await s.read();
  assert.equal(busy.coordinators.length, 1);
  assert.deepEqual([busy.coordinators[0]!.studyName, busy.coordinators[0]!.studyId, busy.coordinators[0]!.otherBuild], ['watched-queue', study!.id, false]);
  assert.equal(busy.coordinators[0]!.version, THIS_BUILD.version);
  assert.deepEqual([busy.workers[0]!.slots, busy.workers[0]!.otherBuild, busy.slots], [2, false, 2]);
  assert.match(busy.workers[0]!.owner, /:\d+:worker-/);
  assert.equal(busy.redis, s.redis);

  // With the database: the trial the worker holds, as the database has it.
  const withDb = await until('the worker\'s trial listed', async () => {
    const r = await status(s, ['--db', s.db, '--json']);
    assert.equal(r.code, 0, r.out);
    const st = JSON.parse(r.out) as QueueStatus;
    return (st.workers[0]?.training?.length ?? 0) > 0 && st;
  }, 60_000, 200);
  const held = withDb.workers[0]!.training![0]!;
  const running = (await s.read()).trials.find((t) => t.number === held.number)!;
  assert.equal(held.studyName, 'watched-queue');
  assert.equal(held.owner, withDb.workers[0]!.owner);
  assert.ok(['RUNNING', 'COMPLETE'].includes(running.state), 'it was RUNNING when listed (it may have finished since)');
  assert.deepEqual(withDb.orphans, []);

  const text = await status(s);
  assert.equal(text.code, 0, text.out);
  assert.match(text.out, new RegExp(`^queue ${s.redis.replace(/[.:/]/g, '\\$&')} prefix '${s.prefix}'\\ncoordinators: 1\\n  \\S+  study 'watched-queue' \\(${study!.id}\\)  renorm-tune `));
  assert.match(text.out, /\nworkers: 1, 2 slots in all\n  \S+:worker-\S+  2 slots  renorm-tune /);

  const done = await exitOf(coordinator, 100_000);
  assert.equal(done.code, 0, done.out);
  assert.equal((await exitOf(worker, 30_000)).code, 0);
  const gone = await statusJson(s);
  assert.deepEqual([gone.coordinators, gone.workers, gone.jobs.active], [[], [], 0], 'each removes its own record as it leaves');
});

test('a worker of another build is marked, and its slots are not counted', { skip }, async () => {
  const s = await Scene.create('sqlite', 'other-build', {});
  scenes.push(s);
  const r = new Redis(REDIS_URL);
  try {
    const record = (owner: string, version: string, slots: number) => JSON.stringify({ owner, slots, version, schema: THIS_BUILD.schema });
    await r.set(`${s.prefix}:presence:worker:old:1:worker-a`, record('old:1:worker-a', '0.0.1', 4), 'PX', 20_000);
    await r.set(`${s.prefix}:presence:worker:new:2:worker-b`, record('new:2:worker-b', THIS_BUILD.version, 3), 'PX', 20_000);
    const st = await statusJson(s);
    assert.deepEqual(st.workers.map((w) => [w.owner, w.slots, w.otherBuild]), [['new:2:worker-b', 3, false], ['old:1:worker-a', 4, true]]);
    assert.equal(st.slots, 3);
    const text = (await status(s)).out;
    assert.match(text, /old:1:worker-a  4 slots  renorm-tune 0\.0\.1 \(another build: this is .*; it is refused\)/);
    assert.match(text, /workers: 2, 3 slots in all/);
  } finally {
    r.disconnect();
  }
});

test('an unreachable Redis or a missing --redis is named, exit 1', async () => {
  const none = await exitOf(cli(['queue']), 30_000);
  assert.equal(none.code, 1);
  assert.match(none.out, /--redis: needs a redis:\/\/ URL/);
  const away = await exitOf(cli(['queue', '--redis', 'redis://:hunter2@127.0.0.1:9']), 30_000);
  assert.equal(away.code, 1);
  assert.match(away.out, /cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:9/);
  assert.doesNotMatch(away.out, /hunter2/);
});

test('with --db, a RUNNING trial whose lease owner is on no live worker is listed as held by no live worker', { skip }, async () => {
  const s = await Scene.create('sqlite', 'orphaned', {});
  scenes.push(s);
  const storage = await openStorage(s.db);
  const service = createStudyService(storage);
  const r = new Redis(REDIS_URL);
  try {
    const study = await service.createStudy(validateStudyConfig({ name: 'orphaned', scenario: { steps: 10 }, budget: { trials: 4 } }));
    const [first] = await service.listTrials(study.id, { states: ['WAITING'] });
    assert.ok(await storage.claimTrial(study.id, first!.id, { owner: 'gone-host:77:worker-dead01', seconds: 600 }));
    // A live coordinator announces the study (as `run` does); no worker is alive.
    await r.set(`${s.prefix}:presence:coordinator:c:1:coordinator-x`, JSON.stringify({ owner: 'c:1:coordinator-x', studyId: study.id, studyName: 'orphaned', ...THIS_BUILD }), 'PX', 20_000);
    const out = await status(s, ['--db', s.db]);
    assert.equal(out.code, 0, out.out);
    assert.match(out.out, /trials held by no live worker \(gone or frozen: each goes back to the queue when its lease runs out\): 1\n  'orphaned' #0 \(BatchNorm\) since \S+, no report yet, lease of gone-host:77:worker-dead01 until \S+/);
    const st = JSON.parse((await status(s, ['--db', s.db, '--json'])).out) as QueueStatus;
    assert.deepEqual(st.orphans!.map((t) => [t.studyName, t.number, t.owner, t.lastStep]), [['orphaned', 0, 'gone-host:77:worker-dead01', null]]);
    assert.equal(st.coordinators[0]!.inDatabase, true);
    // A coordinator of a study this database does not hold: named as running on another database.
    await r.set(`${s.prefix}:presence:coordinator:d:2:coordinator-y`, JSON.stringify({ owner: 'd:2:coordinator-y', studyId: 'f00dfeedbeef', studyName: 'elsewhere', ...THIS_BUILD }), 'PX', 20_000);
    assert.match((await status(s, ['--db', s.db])).out, /d:2:coordinator-y  study 'elsewhere' \(f00dfeedbeef\)  renorm-tune \S+  \(not in the --db given: it runs on another database\)/);
  } finally {
    r.disconnect();
    service.close();
    await storage.close();
  }
});
