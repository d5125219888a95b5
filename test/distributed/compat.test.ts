// A worker refuses, with the reason, a database schema, a coordinator or a job of another build, and a job from another database.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { checkPeer, openWorkerService, THIS_BUILD } from '../../src/distributed/compat.js';
import { FOREIGN_AFTER_MS } from '../../src/distributed/missing_study.js';
import { QUEUE_NAME } from '../../src/distributed/queue.js';
import { validateStudyConfig } from '../../src/study/config.js';
import { createStudyService } from '../../src/study/service/defaults.js';
import { openStorage, STORAGE_SCHEMA_VERSION } from '../../src/study/storage/index.js';
import { SCHEMA } from '../../src/study/storage/pg_migrations.js';
import { withPgClient } from '../fixtures/pg.js';
import { exitOf, pgDatabase, pgSkip, REDIS_URL, redisSkip, Scene, until } from './helpers.js';

const skip = await redisSkip();
const pgDown = skip || (await pgSkip());
const scenes: Scene[] = [];
after(async () => {
  for (const s of scenes) await s.cleanup();
});

/** A database holding one local study with its two baselines WAITING, as a coordinator leaves it. */
async function seeded(name: string): Promise<{ s: Scene; studyId: string; trialId: number }> {
  const s = await Scene.create('sqlite', name, { scenario: { steps: 10 }, budget: { trials: 4 } });
  scenes.push(s);
  const storage = await openStorage(s.db);
  const service = createStudyService(storage);
  const study = await service.createStudy(validateStudyConfig({ name, scenario: { steps: 10 }, budget: { trials: 4 } }));
  const [first] = await service.listTrials(study.id, { states: ['WAITING'] });
  service.close();
  await storage.close();
  return { s, studyId: study.id, trialId: first!.id };
}

function setUserVersion(file: string, v: number): void {
  const db = new Database(file);
  db.pragma(`user_version = ${v}`);
  db.close();
}

test('checkPeer accepts exactly this build and names both builds otherwise', () => {
  checkPeer(THIS_BUILD, 'me');
  assert.throws(() => checkPeer({ ...THIS_BUILD, version: '0.0.1' }, 'the coordinator h:1:c'), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'VERSION_MISMATCH');
    assert.match(e.message, new RegExp(`the coordinator h:1:c runs renorm-tune 0\\.0\\.1 \\(storage schema ${THIS_BUILD.schema}\\), this worker is renorm-tune ${THIS_BUILD.version.replace(/\./g, '\\.')}.*fix: install the same renorm-tune version`));
    return true;
  });
  assert.throws(() => checkPeer({ ...THIS_BUILD, schema: THIS_BUILD.schema + 1 }, 'x'), /VERSION_MISMATCH|storage schema/);
});

test('a worker never opens (or migrates) a SQLite database of another schema version', async () => {
  const { s } = await seeded('schema-check');
  for (const [v, fix] of [[STORAGE_SCHEMA_VERSION + 1, /install the renorm-tune version that wrote it/], [STORAGE_SCHEMA_VERSION - 1, /run the coordinator of this version/]] as const) {
    setUserVersion(s.db, v);
    await assert.rejects(openWorkerService(s.db), (e: Error) => {
      assert.match(e.message, new RegExp(`study\\.db: database schema version ${v}, this worker needs exactly ${STORAGE_SCHEMA_VERSION} and never migrates`));
      assert.match(e.message, fix);
      return true;
    });
  }
  const db = new Database(s.db, { readonly: true });
  assert.equal(db.pragma('user_version', { simple: true }), STORAGE_SCHEMA_VERSION - 1, 'left exactly as it was');
  db.close();
  setUserVersion(s.db, STORAGE_SCHEMA_VERSION);
  const ok = await openWorkerService(s.db);
  await ok.close();
});

test('worker CLI: a newer database schema, or a live coordinator of another version, is refused at start (exit 1)', { skip }, async () => {
  const { s } = await seeded('refuse-start');
  setUserVersion(s.db, STORAGE_SCHEMA_VERSION + 5);
  const schema = await exitOf(s.worker(), 30_000);
  assert.equal(schema.code, 1, schema.out);
  assert.match(schema.out, /error: .*database schema version \d+, this worker needs exactly/);
  setUserVersion(s.db, STORAGE_SCHEMA_VERSION);

  const redis = new Redis(REDIS_URL);
  try {
    await redis.set(`${s.prefix}:presence:coordinator:elsewhere:1:coordinator-old`, JSON.stringify({ owner: 'elsewhere:1:coordinator-old', studyId: 'x', studyName: 'old-study', version: '0.0.1', schema: STORAGE_SCHEMA_VERSION }), 'PX', 60_000);
  } finally {
    redis.disconnect();
  }
  const peer = await exitOf(s.worker(), 30_000);
  assert.equal(peer.code, 1, peer.out);
  assert.match(peer.out, /error: the coordinator elsewhere:1:coordinator-old of study 'old-study' runs renorm-tune 0\.0\.1/);
});

test('worker CLI: a job from a coordinator of another version, or for a study its database does not hold while a coordinator runs it, stops the worker and leaves the trial WAITING', { skip }, async () => {
  const { s, studyId, trialId } = await seeded('refuse-job');
  const queue = new Queue(QUEUE_NAME, { connection: { url: REDIS_URL }, prefix: s.prefix });
  const redis = new Redis(REDIS_URL);
  try {
    // The coordinator of a study in another database, live on this queue.
    await redis.set(`${s.prefix}:presence:coordinator:elsewhere:1:coordinator-x`, JSON.stringify({ owner: 'elsewhere:1:coordinator-x', studyId: 'elsewhere', studyName: 'other', ...THIS_BUILD }), 'PX', 60_000);
    // Exit 1 for a peer of another version (a restart gets past it once both sides are upgraded), 78 for a database
    // that is not its coordinator's (a restart cannot).
    for (const [data, expected, status] of [
      [{ studyId, trialId, round: 0, version: '9.9.9', schema: STORAGE_SCHEMA_VERSION }, /error: job .* \(from its coordinator\) runs renorm-tune 9\.9\.9/, 1],
      [{ studyId: 'elsewhere', trialId, round: 0, ...THIS_BUILD }, /error: --db: job .* is for study elsewhere, which .*study\.db does not hold while its coordinator elsewhere:1:coordinator-x runs it.*--redis-prefix/, 78],
    ] as const) {
      await queue.add('trial', data, { jobId: `probe-${data.studyId}-${data.version}`, removeOnComplete: true, removeOnFail: true });
      // The foreign study is called foreign only after its coordinator has outlived a deletion (FOREIGN_AFTER_MS).
      const res = await exitOf(s.worker(), FOREIGN_AFTER_MS + 30_000);
      assert.equal(res.code, status, res.out);
      assert.match(res.out, expected);
      if (data.studyId === 'elsewhere') assert.match(res.out, /waiting up to 30 s for the coordinator to leave \(a deleted study\)/);
      const counts = await queue.getJobCounts('waiting', 'active', 'failed', 'completed');
      assert.deepEqual(counts, { waiting: 0, active: 0, failed: 0, completed: 0 }, 'the refused job is gone; the coordinator enqueues the trial again');
    }
  } finally {
    redis.disconnect();
    await queue.close();
  }
  const trial = (await s.read()).trials.find((t) => t.id === trialId)!;
  assert.equal(trial.state, 'WAITING');
  assert.equal(trial.retries, 0);
  assert.equal(s.trainings().size, 0, 'nothing trained');
});

test('worker CLI: the leftover jobs of a deleted study (no coordinator runs it) are dropped with one line, and do not stop the worker', { skip }, async () => {
  const { s, trialId } = await seeded('deleted-study');
  const queue = new Queue(QUEUE_NAME, { connection: { url: REDIS_URL }, prefix: s.prefix });
  try {
    for (let i = 0; i < 3; i++) await queue.add('trial', { studyId: 'deadbeef0000', trialId: i + 1, round: 0, ...THIS_BUILD }, { jobId: `gone-${i}`, removeOnComplete: true, removeOnFail: true });
    // With no coordinator on the queue the worker leaves once idle, as it would after any study: exit 0, not 1.
    const res = await exitOf(s.worker(), 30_000);
    assert.equal(res.code, 0, res.out);
    assert.equal(res.out.match(/jobs for study deadbeef0000 dropped: .*study\.db does not hold it and no coordinator runs it \(deleted\?\)/g)?.length, 1, `said once:\n${res.out}`);
    assert.doesNotMatch(res.out, /error/);
    assert.deepEqual(await queue.getJobCounts('waiting', 'active', 'failed'), { waiting: 0, active: 0, failed: 0 }, 'all three are gone');
  } finally {
    await queue.close();
  }
  const trial = (await s.read()).trials.find((t) => t.id === trialId)!;
  assert.equal(trial.state, 'WAITING', 'the database\'s own study is untouched');
});

test('worker CLI: a job for a study deleted under its coordinator, whose record lingers a few seconds (killed, or not yet left), is dropped and does not stop the worker', { skip }, async () => {
  const { s, trialId } = await seeded('deleted-under-coordinator');
  const queue = new Queue(QUEUE_NAME, { connection: { url: REDIS_URL }, prefix: s.prefix });
  const redis = new Redis(REDIS_URL);
  try {
    // The record of a coordinator whose study was just deleted: it goes when the coordinator leaves (or, killed,
    // when it expires, at most 11 s later); here the test removes it once the worker says it waits.
    const key = `${s.prefix}:presence:coordinator:gone:1:coordinator-k`;
    await redis.set(key, JSON.stringify({ owner: 'gone:1:coordinator-k', studyId: 'deadbeef0001', studyName: 'deleted', ...THIS_BUILD }), 'PX', 60_000);
    for (let i = 0; i < 2; i++) await queue.add('trial', { studyId: 'deadbeef0001', trialId: i + 1, round: 0, ...THIS_BUILD }, { jobId: `lingering-${i}`, removeOnComplete: true, removeOnFail: true });
    const w = s.worker();
    await until('the worker waiting for the coordinator to leave', () => /announces it: waiting/.test(w.out()), FOREIGN_AFTER_MS - 5_000);
    await redis.del(key);
    const res = await exitOf(w, FOREIGN_AFTER_MS);
    assert.equal(res.code, 0, res.out);
    assert.match(res.out, /study deadbeef0001, which .*study\.db does not hold while its coordinator gone:1:coordinator-k announces it: waiting/);
    assert.equal(res.out.match(/jobs for study deadbeef0001 dropped: .*does not hold it and no coordinator runs it \(deleted\?\)/g)?.length, 1, `said once:\n${res.out}`);
    assert.doesNotMatch(res.out, /error/);
    assert.deepEqual(await queue.getJobCounts('waiting', 'active', 'failed'), { waiting: 0, active: 0, failed: 0 }, 'both are gone');
  } finally {
    redis.disconnect();
    await queue.close();
  }
  const trial = (await s.read()).trials.find((t) => t.id === trialId)!;
  assert.equal(trial.state, 'WAITING', 'the database\'s own study is untouched');
});

test('worker CLI: a PostgreSQL database its coordinator has not migrated is waited on for --idle-exit, never migrated; then the worker leaves 0 with the fix', { skip: pgDown }, async () => {
  const { url, drop } = await pgDatabase();
  const s = await Scene.create('sqlite', 'pg-refuse', {});
  scenes.push(s);
  try {
    const res = await exitOf(s.worker(['--db', url, '--idle-exit', '1']), 30_000);
    assert.equal(res.code, 0, res.out);
    assert.match(res.out, /\[worker\] postgres:\/\/.*: no renorm-tune schema yet; waiting up to 1 s for its coordinator/);
    assert.match(res.out, /\[worker\] leaving \(postgres:\/\/.* still holds no renorm-tune schema after 1 s\); 0 trials trained/);
    assert.match(res.out, /no coordinator has run a study on this database: start `npx renorm-tune run <config> --db <same database> --redis <same Redis>`/);
    const schemas = await withPgClient(url, async (c) => (await c.query('SELECT count(*)::int AS n FROM information_schema.schemata WHERE schema_name = $1', [SCHEMA])).rows[0].n as number);
    assert.equal(schemas, 0, 'not migrated');
  } finally {
    await drop();
  }
});
