// Closing the coordinator's queue when Redis has just restarted: BullMQ's own close never settles then, and a
// coordinator that printed its summary hung on it (found by `npm run soak`); it now leaves after a grace.
import { test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { TrialQueue } from '../../src/distributed/queue.js';
import { parseRedisRef } from '../../src/distributed/redis.js';
import { startPrivateRedis } from '../fixtures/redis_server.js';
import { serveProcess } from '../fixtures/serve_process.js';

const redis = await startPrivateRedis();
const skip = 'unavailable' in redis ? redis.unavailable : false;

/** A queue with its event listener connected (the connection whose close hangs), on the private server. */
async function listeningQueue(url: string): Promise<TrialQueue> {
  const q = new TrialQueue(parseRedisRef(url, `close-${process.pid}`));
  q.onSettled(() => undefined);
  await q.waitingCount();
  await new Promise((r) => setTimeout(r, 300));
  return q;
}

/** Whether BullMQ settles before the grace depends on where its reconnect was; what matters is that close returns. */
async function closesWithin(q: TrialQueue, graceMs: number): Promise<void> {
  const t0 = Date.now();
  const closed = await q.close(graceMs);
  assert.equal(typeof closed, 'boolean');
  assert.ok(Date.now() - t0 < graceMs + 2000, `close returned after ${Date.now() - t0} ms (grace ${graceMs} ms)`);
}

test('the queue closes cleanly (true) while Redis is up', { skip }, async () => {
  if ('unavailable' in redis) return;
  const q = await listeningQueue(redis.url);
  assert.equal(await q.close(500), true);
});

test('Redis restarted just before: close returns within its grace instead of hanging', { skip, timeout: 30_000 }, async () => {
  if ('unavailable' in redis) return;
  const q = await listeningQueue(redis.url);
  await redis.kill();
  await new Promise((r) => setTimeout(r, 500));
  await redis.start();
  await closesWithin(q, 1000);
});

test('Redis still away: the same', { skip, timeout: 30_000 }, async () => {
  if ('unavailable' in redis) return;
  const q = await listeningQueue(redis.url);
  await redis.kill();
  try {
    await closesWithin(q, 1000);
  } finally {
    await redis.start();
  }
});

test('serve --redis: SIGTERM while Redis is away ends the process (it stayed until Redis came back)', { skip, timeout: 60_000 }, async () => {
  if ('unavailable' in redis) return;
  const dir = mkdtempSync(join(tmpdir(), 'renorm-serve-close-'));
  const srv = await serveProcess(['--db', join(dir, 's.db'), '--redis', redis.url, '--redis-prefix', `serve-close-${process.pid}`]);
  try {
    assert.equal((await fetch(`${srv.url}/api/queue`)).status, 200, 'the queue panel reads Redis');
    await redis.kill();
    assert.equal((await fetch(`${srv.url}/api/queue`)).status, 503);
    const t0 = Date.now();
    const exited = new Promise<number | null>((r) => srv.child.once('exit', (code) => r(code)));
    srv.child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 20_000))]);
    assert.equal(code, 0, `exit ${code} after ${Date.now() - t0} ms: ${srv.output()}`);
  } finally {
    srv.child.kill('SIGKILL');
    await redis.start();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.after(async () => {
  if (!('unavailable' in redis)) await redis.close();
});
