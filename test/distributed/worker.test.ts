// When a queue worker leaves: at once when idle with no coordinator, never while a coordinator is alive.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { THIS_BUILD } from '../../src/distributed/compat.js';
import { openStorage } from '../../src/study/storage/index.js';
import { startRelay } from '../fixtures/relay.js';
import { cli, countingTrainer, deletePrefix, exitOf, REDIS_URL, redisSkip, Scene, until } from './helpers.js';

const skip = await redisSkip();
const scenes: Scene[] = [];
after(async () => {
  for (const s of scenes) await s.cleanup();
});

async function emptyDatabase(name: string): Promise<Scene> {
  const s = await Scene.create('sqlite', name, {});
  scenes.push(s);
  await (await openStorage(s.db)).close();
  return s;
}

test('an idle worker with no coordinator leaves on its own, exit 0', { skip }, async () => {
  const s = await emptyDatabase('idle');
  const res = await exitOf(s.worker(['--idle-exit', '1']), 30_000);
  assert.equal(res.code, 0, res.out);
  assert.match(res.out, /leaving \(no work and no coordinator left\); 0 trials trained/);
  assert.match(res.out, /no coordinator is running a study on this queue \(prefix '[^']+'\): start `npx renorm-tune run <config> --db <same database> --redis <same Redis>` with the same --redis-prefix, or keep this worker waiting with --idle-exit 0/);
});

test('its exit status tells a supervisor not to start it again: 78 for a flag it cannot run with (redis.test.ts: 1 for a server out of reach)', { skip }, async () => {
  const s = await emptyDatabase('exit-status');
  for (const [extra, said] of [
    [['--concurrency', '0'], /error: --concurrency: must be an integer in \[1, 256\], got "0"/],
    [['--backend', 'cuda'], /error: --backend: /],
    [['--devices', 'a,b'], /error: --devices: must be a comma-separated list of GPU indices/],
  ] as const) {
    const res = await exitOf(s.worker([...extra]), 30_000);
    assert.equal(res.code, 78, res.out);
    assert.match(res.out, said);
  }
});

test('an idle worker waits while a coordinator announces itself, and leaves once it is gone', { skip }, async () => {
  const s = await emptyDatabase('waits');
  const redis = new Redis(REDIS_URL);
  let expiresAt: number;
  try {
    const owner = 'here:1:coordinator-test';
    await redis.set(`${s.prefix}:presence:coordinator:${owner}`, JSON.stringify({ owner, studyId: 'x', studyName: 'x', ...THIS_BUILD }), 'PX', 6000);
    expiresAt = Date.now() + 6000;
  } finally {
    redis.disconnect();
  }
  const res = await exitOf(s.worker(['--idle-exit', '1']), 30_000);
  assert.equal(res.code, 0, res.out);
  assert.ok(Date.now() >= expiresAt, 'it left only after the coordinator\'s presence expired');
});

test('a coordinator with no worker says how to start one, with its own --redis-prefix', { skip, timeout: 60_000 }, async () => {
  const s = await Scene.create('sqlite', 'no-worker', { scenario: { steps: 20 }, budget: { trials: 4 } });
  scenes.push(s);
  const c = s.coordinator();
  const line = await until('the advice', () => /\[queue\] no worker.*/.exec(c.out())?.[0], 30_000);
  assert.ok(line.includes(`worker --db <same database> --redis ${REDIS_URL} --redis-prefix ${s.prefix}\``), line);
});

test('after Redis loses every key (a restart), an idle worker waits for its coordinator to announce itself again', { skip, timeout: 60_000 }, async () => {
  const s = await emptyDatabase('redis-restart');
  const redis = new Redis(REDIS_URL);
  const owner = 'here:1:coordinator-test';
  const announce = (ms: number) => redis.set(`${s.prefix}:presence:coordinator:${owner}`, JSON.stringify({ owner, studyId: 'x', studyName: 'x', ...THIS_BUILD }), 'PX', ms);
  try {
    await announce(60_000);
    const w = s.worker(['--idle-exit', '1']);
    await until('the worker up and idle', () => /1 slot/.test(w.out()), 30_000);
    await new Promise((r) => setTimeout(r, 1500));
    await deletePrefix(s.prefix);
    // The coordinator's Redis client reconnects a moment after the worker's, and announces itself then.
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(w.child.exitCode, null, `the worker left while its coordinator was reconnecting:\n${w.out()}`);
    await announce(3000);
    const expiresAt = Date.now() + 3000;
    const res = await exitOf(w, 30_000);
    assert.equal(res.code, 0, res.out);
    assert.ok(Date.now() >= expiresAt, 'it left only after the coordinator\'s presence expired');
  } finally {
    redis.disconnect();
  }
});

test('a worker stopped while Redis is away leaves (exit 0), though BullMQ\'s close never settles then', { skip, timeout: 60_000 }, async () => {
  const s = await emptyDatabase('redis-away');
  // Redis behind a relay: closing the relay refuses every connection, as a stopped server does.
  const relay = await startRelay(new URL(REDIS_URL));
  const w = s.track(cli(['worker', '--db', s.db, '--redis', relay.via(REDIS_URL).href, '--redis-prefix', s.prefix, '--trial-worker', countingTrainer, '--idle-exit', '0']));
  await until('the worker up', () => /1 slot/.test(w.out()), 30_000);
  await relay.close();
  await until('the worker seeing Redis gone', () => /lost Redis at/.test(w.out()), 30_000);
  w.child.kill('SIGTERM');
  const res = await exitOf(w, 30_000);
  assert.equal(res.code, 0, res.out);
  assert.match(res.out, /did not close within 5 s \(Redis away or just back\); leaving without it/);
  assert.match(res.out, /leaving \(stopped by a signal\); 0 trials trained/);
});

test('a worker says once that Redis went away and once that it is back, not every reconnect error', { skip, timeout: 90_000 }, async () => {
  const s = await emptyDatabase('redis-back');
  const relay = await startRelay(new URL(REDIS_URL));
  try {
    const via = relay.via(REDIS_URL).href;
    const w = s.track(cli(['worker', '--db', s.db, '--redis', via, '--redis-prefix', s.prefix, '--trial-worker', countingTrainer, '--idle-exit', '0']));
    await until('the worker up', () => /1 slot/.test(w.out()), 30_000);
    relay.cut();
    await until('the worker seeing Redis gone', () => /lost Redis at/.test(w.out()), 30_000);
    // Long enough for several reconnect attempts, each of which used to print a line.
    await new Promise((r) => setTimeout(r, 4000));
    relay.restore();
    await until('the worker seeing Redis back', () => /is back after/.test(w.out()), 60_000);
    w.child.kill('SIGTERM');
    const res = await exitOf(w, 30_000);
    const out = res.out;
    assert.equal(out.match(/lost Redis at/g)?.length, 1, out);
    assert.match(out, new RegExp(`\\[worker\\] lost Redis at ${via.replace(/[/.]/g, '\\$&')} \\([^)]+\\): trials in training go on \\(their leases live in the database\\); new ones arrive once it is back`));
    assert.match(out, /\[worker\] Redis at \S+ is back after \d+(\.\d)? s/);
    assert.doesNotMatch(out, /\[worker\] queue: .*(ECONNREFUSED|ECONNRESET|Connection is closed)/, 'raw reconnect errors are not repeated');
  } finally {
    await relay.close();
  }
});
