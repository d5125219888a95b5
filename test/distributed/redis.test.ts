// `--redis` and the queue's bad input: schemes named, passwords redacted, unreachable servers reported fast with nothing written.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { bullConnection, checkRedis, MAX_RECONNECT_DELAY_MS, parseRedisRef, reconnectDelay, redactUrl } from '../../src/distributed/redis.js';
import { workerCommand } from '../../src/cli/worker.js';
import { cli, exitOf, REDIS_URL, redisSkip } from './helpers.js';

const skip = await redisSkip();
const dir = mkdtempSync(join(tmpdir(), 'renorm-redis-'));
const config = join(dir, 'c.json');
writeFileSync(config, JSON.stringify({ name: 'bad-input', scenario: { steps: 10 }, budget: { trials: 4 } }));
after(() => rmSync(dir, { recursive: true, force: true }));

test('redactUrl hides passwords and keeps everything else', () => {
  assert.equal(redactUrl('redis://user:hunter2@host:6379/1'), 'redis://user:***@host:6379/1');
  assert.equal(redactUrl('redis://:hunter2@host'), 'redis://:***@host');
  assert.equal(redactUrl('redis://token@host'), 'redis://***@host');
  assert.equal(redactUrl('postgres://u:p@h:5432/db'), 'postgres://u:***@h:5432/db');
  assert.equal(redactUrl('redis://host:6379'), 'redis://host:6379');
  assert.equal(redactUrl('redis://host:6379/0?password=hunter2&x=1'), 'redis://host:6379/0?password=***&x=1');
});

test('parseRedisRef names a missing URL, a wrong scheme, a bad prefix', () => {
  assert.throws(() => parseRedisRef(undefined, undefined), /--redis: needs a redis:\/\/ URL/);
  assert.throws(() => parseRedisRef('http://127.0.0.1:6379', undefined), /--redis: unsupported URL scheme 'http:\/\/'.*redis:\/\/host:6379/);
  assert.throws(() => parseRedisRef('127.0.0.1:6379', undefined), /--redis: unsupported URL scheme '127\.0\.0\.1:6379' \(no scheme\)/);
  assert.throws(() => parseRedisRef('postgres://u:secret@h/db', undefined), (e: Error) => /'postgres:\/\/'/.test(e.message) && !e.message.includes('secret'));
  assert.throws(() => parseRedisRef('redis://h', 'has space'), /--redis-prefix: must be/);
  assert.deepEqual(parseRedisRef('rediss://u:p@h:6380/2', 'p1'), { url: 'rediss://u:p@h:6380/2', where: 'rediss://u:***@h:6380/2', prefix: 'p1' });
});

test('checkRedis: an unreachable server is a ConfigError naming the redacted URL and the fix', async () => {
  await assert.rejects(checkRedis(parseRedisRef('redis://u:hunter2@127.0.0.1:1', undefined)), (e: Error) => {
    assert.match(e.message, /^--redis: cannot reach Redis at redis:\/\/u:\*\*\*@127\.0\.0\.1:1 \(connect ECONNREFUSED 127\.0\.0\.1:1\).*fix: start Redis/);
    assert.ok(!e.message.includes('hunter2'));
    return true;
  });
});

test('checkRedis: a database number the server lacks is refused, not served from database 0', { skip }, async () => {
  await assert.rejects(checkRedis(parseRedisRef(`${REDIS_URL.replace(/\/\d*$/, '')}/99`, undefined)),
    (e: Error) => /^--redis: Redis at redis:\/\/.*\/99 has no database 99 \(ERR .*\).*fix: give a database number the server has/.test(e.message));
  await checkRedis(parseRedisRef(`${REDIS_URL.replace(/\/\d*$/, '')}/1`, undefined));
});

test('worker flags are checked before anything connects', async () => {
  const base = { db: join(dir, 'never.db'), redis: 'redis://127.0.0.1:1', idleExit: '2' };
  await assert.rejects(workerCommand({ ...base, concurrency: '0' }), /--concurrency: must be an integer in \[1, 256\], got "0"/);
  await assert.rejects(workerCommand({ ...base, backend: 'tpu' }), /--backend/);
  await assert.rejects(workerCommand({ ...base, isolation: 'fork' }), /--isolation/);
  await assert.rejects(workerCommand({ ...base, idleExit: 'soon' }), /--idle-exit: must be a number/);
  await assert.rejects(workerCommand({ ...base, backend: 'node-gpu' }), /@tensorflow\/tfjs-node-gpu is not installed.*npm install @tensorflow\/tfjs-node-gpu/);
  await assert.rejects(workerCommand({ ...base, backend: 'wasm', isolation: 'thread', devices: '0,1' }), /--devices: needs --isolation process/);
  await assert.rejects(workerCommand({ ...base, backend: 'wasm', devices: 'a,b' }), /--devices: must be a comma-separated list of GPU indices/);
  await assert.rejects(workerCommand({ ...base, backend: 'wasm', devices: '0,1' }), /127\.0\.0\.1:1/, '--devices alone implies process isolation, as in a local run: the flags pass and Redis is tried');
  assert.ok(!existsSync(base.db), 'nothing was created');
});

test('run --redis: an unreachable Redis (password redacted, exit 1) or a wrong scheme (exit 78) is refused before the database is created', async () => {
  const db = join(dir, 'run.db');
  for (const [url, expected, status] of [
    ['redis://user:hunter2@127.0.0.1:1', /error: --redis: cannot reach Redis at redis:\/\/user:\*\*\*@127\.0\.0\.1:1/, 1],
    ['http://127.0.0.1:6379', /error: --redis: unsupported URL scheme 'http:\/\/'/, 78],
  ] as const) {
    const res = await exitOf(cli(['run', config, '--db', db, '--redis', url]), 30_000);
    assert.equal(res.code, status, res.out);
    assert.match(res.out, expected);
    assert.ok(!res.out.includes('hunter2'), 'the password never appears');
    assert.ok(!existsSync(db), 'nothing half-written: no database file');
  }
});

test('worker: an unreachable Redis or an unreachable PostgreSQL (password redacted) exits 1, named; a missing SQLite file is waited for, never created', { skip }, async () => {
  const missing = join(dir, 'missing.db');
  const cases: [string[], RegExp, number][] = [
    [['--db', missing, '--redis', 'redis://127.0.0.1:1'], /error: --redis: cannot reach Redis at redis:\/\/127\.0\.0\.1:1/, 1],
    [['--db', missing, '--redis', REDIS_URL], /missing\.db: no renorm-tune schema yet; waiting up to 2 s for its coordinator[^]*leaving \(.*missing\.db still holds no renorm-tune schema after 2 s\)/, 0],
    [['--db', 'postgres://someone:hunter2@127.0.0.1:1/nothing', '--redis', REDIS_URL], /postgres:\/\/(someone:)?\*\*\*@127\.0\.0\.1:1\/nothing/, 1],
  ];
  for (const [args, expected, status] of cases) {
    const res = await exitOf(cli(['worker', ...args]), 30_000);
    assert.equal(res.code, status, res.out);
    assert.match(res.out, expected);
    assert.ok(!res.out.includes('hunter2'));
  }
  assert.ok(!existsSync(missing), 'a worker never creates a database');
});

test('queue clients retry a lost Redis at most every 2 s (BullMQ alone waits up to 20 s), through BullMQ own option merge', { skip: await redisSkip() }, async () => {
  for (let times = 1; times <= 1000; times++) {
    const ms = reconnectDelay(times);
    assert.ok(ms >= 500 && ms <= MAX_RECONNECT_DELAY_MS, `attempt ${times}: ${ms} ms`);
  }
  const ref = parseRedisRef(REDIS_URL, `rt-retry-${process.pid}`);
  const queue = new Queue('retry-probe', { connection: bullConnection(ref), prefix: ref.prefix });
  const worker = new Worker('retry-probe', async () => undefined, { connection: bullConnection(ref), prefix: ref.prefix, autorun: false });
  try {
    const [q, w] = [queue.getBackend(), worker.getBackend()];
    for (const [who, client] of [['queue', await q.client], ['worker', await w.client], ['worker blocking', await w.blockingClient]] as const) {
      const strategy = client?.options.retryStrategy;
      assert.ok(strategy, `${who}: no retry strategy`);
      assert.ok((strategy(30) as number) <= MAX_RECONNECT_DELAY_MS, `${who} waits ${String(strategy(30))} ms before its 30th reconnect attempt`);
    }
  } finally {
    await worker.close();
    await queue.close();
  }
});
