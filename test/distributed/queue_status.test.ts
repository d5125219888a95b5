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

test('shows the coordinator with its study, the worker with its slots and what it trains, a job taken, and nobody once they left', { skip, timeout: 120_000 }, async () => {
  // Trials of about 30 s, so every look below falls while the first two train; then both processes are stopped.
  const s = await Scene.create('sqlite', 'watched-queue', { scenario: { steps: 2000, evalInterval: 50 }, budget: { trials: 3 }, finalValidation: { seeds: 0, race: { candidates: 1 } } }, 15);
  scenes.push(s);
  const empty = await statusJson(s);
  assert.deepEqual([empty.coordinators, empty.workers, empty.slots, empty.jobs], [[], [], 0, { waiting: 0, active: 0, delayed: 0 }]);

  // Its dashboard (--port) shows the queue too: GET /api/queue answers what `queue --db` prints.
  const coordinator = s.coordinator(['--port', '0']);
  await until('the study in the database', async () => (await s.read()).study);
  const url = await until('the coordinator\'s dashboard', () => /dashboard and API at (http:\S+)/.exec(coordinator.out())?.[1], 60_000);
  const worker = s.worker(['--concurrency', '2']);
  const busy = await until('two jobs taken, their trials listed as the worker\'s', async () => {
    const r = await status(s, ['--db', s.db, '--json']);
    assert.equal(r.code, 0, r.out);
    const st = JSON.parse(r.out) as QueueStatus;
    return st.jobs.active === 2 && st.workers[0]?.training?.length === 2 && st;
  }, 60_000, 200);
  const { study, trials } = await s.read();
  assert.equal(busy.coordinators.length, 1);
  assert.deepEqual([busy.coordinators[0]!.studyName, busy.coordinators[0]!.studyId, busy.coordinators[0]!.otherBuild, busy.coordinators[0]!.inDatabase], ['watched-queue', study!.id, false, true]);
  assert.equal(busy.coordinators[0]!.version, THIS_BUILD.version);
  assert.deepEqual([busy.workers[0]!.slots, busy.workers[0]!.otherBuild, busy.slots], [2, false, 2]);
  assert.match(busy.workers[0]!.owner, /:\d+:worker-/);
  assert.equal(busy.redis, s.redis);
  // What it trains, as the database has it: the RUNNING trials under this worker's leases.
  const running = trials.filter((t) => t.state === 'RUNNING');
  assert.deepEqual(busy.workers[0]!.training!.map((t) => t.number).sort(), running.map((t) => t.number).sort());
  for (const t of busy.workers[0]!.training!) {
    assert.equal(t.studyName, 'watched-queue');
    assert.equal(t.owner, busy.workers[0]!.owner);
    assert.equal(running.find((r) => r.number === t.number)!.lease!.owner, busy.workers[0]!.owner);
  }
  assert.deepEqual(busy.orphans, []);
  const served = await until('the dashboard\'s look at the same two trials', async () => {
    const r = (await (await fetch(`${url}/api/queue`)).json()) as QueueStatus & { watched: boolean };
    return r.workers[0]?.training?.length === 2 && r;
  }, 30_000, 200);
  assert.equal(served.watched, true);
  assert.deepEqual([served.coordinators.map((c) => [c.studyId, c.inDatabase]), served.workers.map((w) => [w.owner, w.slots]), served.prefix],
    [[[study!.id, true]], [[busy.workers[0]!.owner, 2]], s.prefix]);

  const text = await status(s, ['--db', s.db]);
  assert.equal(text.code, 0, text.out);
  assert.match(text.out, new RegExp(`^queue ${s.redis.replace(/[.:/]/g, '\\$&')} prefix '${s.prefix}'\\ncoordinators: 1\\n  \\S+  study 'watched-queue' \\(${study!.id}\\)  renorm-tune `));
  assert.match(text.out, /\nworkers: 1, 2 slots in all\n  \S+:worker-\S+  2 slots  renorm-tune \S+\n    training 'watched-queue' #\d+ \(\S+[^)]*\) since \S+, (no report yet|at step \d+); 'watched-queue' #\d+/);
  assert.match(text.out, /\njobs: 0 waiting for a worker, 2 taken\n$/);

  worker.child.kill('SIGTERM');
  assert.equal((await exitOf(worker, 30_000)).code, 0, 'the worker hands its trials back and leaves');
  coordinator.child.kill('SIGTERM');
  await exitOf(coordinator, 30_000);
  const gone = await statusJson(s);
  assert.deepEqual([gone.coordinators, gone.workers], [[], []], 'each removes its own record as it leaves');
});

test('a worker of another build is marked, and its slots are not counted; one given a backend and devices shows them', { skip }, async () => {
  const s = await Scene.create('sqlite', 'other-build', {});
  scenes.push(s);
  const r = new Redis(REDIS_URL);
  try {
    const record = (owner: string, version: string, slots: number, more = {}) => JSON.stringify({ owner, slots, version, schema: THIS_BUILD.schema, ...more });
    await r.set(`${s.prefix}:presence:worker:old:1:worker-a`, record('old:1:worker-a', '0.0.1', 4), 'PX', 20_000);
    await r.set(`${s.prefix}:presence:worker:new:2:worker-b`, record('new:2:worker-b', THIS_BUILD.version, 3), 'PX', 20_000);
    // One started with --backend node-gpu --devices 0,1 (its start-up check found the GPU).
    await r.set(`${s.prefix}:presence:worker:new:3:worker-c`, record('new:3:worker-c', THIS_BUILD.version, 2, { backend: 'node-gpu', device: 'GPU', devices: ['0', '1'] }), 'PX', 20_000);
    const st = await statusJson(s);
    assert.deepEqual(st.workers.map((w) => [w.owner, w.slots, w.otherBuild]), [['new:2:worker-b', 3, false], ['new:3:worker-c', 2, false], ['old:1:worker-a', 4, true]]);
    assert.equal(st.slots, 5);
    const text = (await status(s)).out;
    assert.match(text, /old:1:worker-a  4 slots  renorm-tune 0\.0\.1 \(another build: this is .*; it is refused\)/);
    assert.match(text, /\n  new:3:worker-c  2 slots  node-gpu on the GPU, devices 0, 1  renorm-tune /);
    assert.match(text, /\n  new:2:worker-b  3 slots  renorm-tune /, 'a worker without --backend trains each study\'s own: nothing said');
    assert.match(text, /workers: 3, 5 slots in all/);
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
