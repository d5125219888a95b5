// A worker started before its coordinator: the database holds no schema yet (a SQLite file not yet created, or an
// empty PostgreSQL database), so the worker waits for one as it waits for work, never creating it itself, and trains
// once the coordinator has made it. A coordinator on its queue whose database it still cannot see means a wrong --db.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { openWorkerServiceWhenCreated, type SchemaWait, THIS_BUILD, WrongDatabaseError } from '../../src/distributed/compat.js';
import { FOREIGN_AFTER_MS } from '../../src/distributed/missing_study.js';
import { ConfigError } from '../../src/errors.js';
import { openStorage } from '../../src/study/storage/index.js';
import { SCHEMA } from '../../src/study/storage/pg_migrations.js';
import { withPgClient } from '../fixtures/pg.js';
import { describeTrials, exitOf, pgSkip, REDIS_URL, redisSkip, Scene, until } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'renorm-worker-first-'));
const scenes: Scene[] = [];
after(async () => {
  for (const s of scenes) await s.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

/** A wait with no coordinator announced, every 20 ms, counting its "waiting" calls. */
function quietWait(waitMs: number, signal = new AbortController().signal): SchemaWait & { waits: number } {
  const w = { where: 'db', waitMs, signal, everyMs: 20, coordinators: async () => [], waits: 0, onWait: () => void w.waits++ };
  return w;
}

test('a missing SQLite file is waited for (said once) and opened once its coordinator has created it; the wait never creates it', async () => {
  const file = join(dir, 'later.db');
  const w = quietWait(200);
  assert.equal(await openWorkerServiceWhenCreated(file, w), undefined, 'no schema within the wait');
  assert.equal(w.waits, 1);
  assert.ok(!existsSync(file), 'a worker never creates a database');

  const waiting = openWorkerServiceWhenCreated(file, quietWait(Infinity));
  await new Promise((r) => setTimeout(r, 100));
  const coordinator = await openStorage(file); // as `run` opens it: created and migrated
  try {
    const opened = await waiting;
    assert.ok(opened, 'opened once the schema is there');
    assert.deepEqual(await opened.service.listStudies(), []);
    await opened.close();
  } finally {
    await coordinator.close();
  }
});

test('a SQLite file that exists without a schema (user_version 0: being created, or empty) is waited for, not refused as another version', async () => {
  const file = join(dir, 'empty.db');
  new Database(file).close();
  const w = quietWait(100);
  assert.equal(await openWorkerServiceWhenCreated(file, w), undefined);
  assert.equal(w.waits, 1);
});

test('a SQLite file locked by its coordinator creating it is waited for, not refused as unreadable', async () => {
  const file = join(dir, 'locked.db');
  const creating = new Database(file);
  creating.exec('BEGIN EXCLUSIVE; CREATE TABLE t (x)');
  try {
    const w = quietWait(100);
    assert.equal(await openWorkerServiceWhenCreated(file, w), undefined);
    assert.equal(w.waits, 1);
  } finally {
    creating.exec('ROLLBACK');
    creating.close();
  }
});

test('a signal ends the wait at once', async () => {
  const stop = new AbortController();
  const waiting = openWorkerServiceWhenCreated(join(dir, 'never.db'), quietWait(Infinity, stop.signal));
  setTimeout(() => stop.abort(), 50);
  assert.equal(await waiting, undefined);
});

test('a coordinator announced on the queue for foreignAfterMs while the database still holds no schema: ConfigError naming --db and the coordinator', async () => {
  const w: SchemaWait = {
    ...quietWait(Infinity),
    where: join(dir, 'wrong.db'),
    foreignAfterMs: 150,
    coordinators: async () => [{ owner: 'h:1:coordinator-x', studyName: 'elsewhere' }],
  };
  await assert.rejects(openWorkerServiceWhenCreated(join(dir, 'wrong.db'), w), (e: unknown) => {
    assert.ok(e instanceof WrongDatabaseError && e instanceof ConfigError && e.field === '--db', String(e));
    assert.match(e.message, /wrong\.db still holds no renorm-tune schema while coordinator h:1:coordinator-x runs study 'elsewhere' on this queue: this worker's database is not its coordinator's/);
    assert.match(e.message, /give the worker the coordinator's --db, or give each database its own --redis-prefix/);
    return true;
  });
});

test('an idle wait shorter than foreignAfterMs does not end while a coordinator is announced: the wrong database is still named', async () => {
  // With --idle-exit 2 the worker left after 2 s, exit 0, saying no coordinator had run a study on its database.
  const w: SchemaWait = {
    ...quietWait(50),
    where: join(dir, 'wrong-idle.db'),
    foreignAfterMs: 300,
    coordinators: async () => [{ owner: 'h:1:coordinator-y', studyName: 'elsewhere' }],
  };
  await assert.rejects(openWorkerServiceWhenCreated(join(dir, 'wrong-idle.db'), w), WrongDatabaseError);
});

test('another error (a schema of another version) is thrown at once, not waited on', async () => {
  const file = join(dir, 'newer.db');
  const db = new Database(file);
  db.pragma('user_version = 999');
  db.close();
  const w = quietWait(Infinity);
  await assert.rejects(openWorkerServiceWhenCreated(file, w), /database schema version 999/);
  assert.equal(w.waits, 0);
});

const skip = await redisSkip();
const pgDown = skip || (await pgSkip());

test('worker CLI started before its coordinator on an empty PostgreSQL database: it waits, the coordinator creates the schema, the worker trains the study to COMPLETE', { skip: pgDown, timeout: 180_000 }, async () => {
  const s = await Scene.create('postgres', 'worker-first', { scenario: { steps: 10 }, budget: { trials: 3 }, finalValidation: { seeds: 0, race: { candidates: 1 } } });
  scenes.push(s);
  const worker = s.worker(['--idle-exit', '0']);
  await until('the worker waiting', async () => /no renorm-tune schema yet; waiting for its coordinator/.test(worker.out()) || undefined).catch((err: Error) => assert.fail(`${err.message}\n${worker.out()}`));
  const schemas = await withPgClient(s.db, async (c) => (await c.query('SELECT count(*)::int AS n FROM information_schema.schemata WHERE schema_name = $1', [SCHEMA])).rows[0].n as number);
  assert.equal(schemas, 0, 'the waiting worker created nothing');
  const coordinator = s.coordinator();
  const done = await exitOf(coordinator, 120_000).catch((err: Error) => assert.fail(`${err.message}\nworker:\n${worker.out()}`));
  assert.equal(done.code, 0, `${done.out}\nworker:\n${worker.out()}`);
  const { study, trials } = await s.read();
  assert.equal(study?.state, 'COMPLETE');
  assert.deepEqual(trials.filter((t) => t.state !== 'COMPLETE').map((t) => `#${t.number} ${t.state}`), [], describeTrials(trials));
  assert.match(worker.out(), /trial #\d+ .*of 'worker-first': COMPLETE/);
  worker.child.kill('SIGTERM');
  assert.equal((await exitOf(worker, 30_000)).code, 0);
});

test('worker CLI: waiting on a database with no schema while a coordinator of its queue announces a study there for 30 s: wrong --db, exit 78', { skip, timeout: 120_000 }, async () => {
  const s = await Scene.create('sqlite', 'wrong-db', {});
  scenes.push(s);
  const redis = new Redis(REDIS_URL);
  try {
    await redis.set(`${s.prefix}:presence:coordinator:other:1:coordinator-o`, JSON.stringify({ owner: 'other:1:coordinator-o', studyId: 'feedbeef0001', studyName: 'theirs', ...THIS_BUILD }), 'PX', 90_000);
  } finally {
    redis.disconnect();
  }
  const res = await exitOf(s.worker(['--idle-exit', '0']), FOREIGN_AFTER_MS + 30_000);
  assert.equal(res.code, 78, res.out);
  assert.match(res.out, /error: --db: .*study\.db still holds no renorm-tune schema while coordinator other:1:coordinator-o runs study 'theirs' on this queue: this worker's database is not its coordinator's/);
  assert.ok(!existsSync(s.db), 'a worker never creates a database');
});
