// The queue over a Redis that speaks only TLS (rediss://, as managed Redis services do): a whole queue run with the
// server's authority trusted through NODE_EXTRA_CA_CERTS, and each way of getting it wrong named with its fix before
// anything is written. A private redis-server on a free port, with a self-signed certificate made by openssl.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/errors.js';
import { checkRedis, parseRedisRef } from '../../src/distributed/redis.js';
import { makeCert, opensslMissing } from '../fixtures/certs.js';
import { startPrivateRedis, type PrivateRedis } from '../fixtures/redis_server.js';
import { countsTowardBudget } from '../../src/shared/roles.js';
import { describeTrials, exitOf, Scene, until } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'renorm-redis-tls-'));
const cert = opensslMissing ? undefined : makeCert(dir, 'redis-tls');
const started = cert ? await startPrivateRedis({ tls: cert }) : { unavailable: opensslMissing as string };
const skip = 'unavailable' in started ? started.unavailable : false;
const redis = 'unavailable' in started ? undefined : (started as PrivateRedis);
const scenes: Scene[] = [];
after(async () => {
  for (const s of scenes) await s.cleanup();
  await redis?.close();
  rmSync(dir, { recursive: true, force: true });
});

const refused = async (url: string, message: RegExp) =>
  assert.rejects(checkRedis(parseRedisRef(url, undefined)), (e: unknown) => e instanceof ConfigError && e.field === '--redis' && message.test(e.message), message.source);

test('an authority this process does not trust, or plain redis:// to the TLS port: named, with the fix', { skip }, async () => {
  await refused(redis!.url, /cannot reach Redis at rediss:\/\/127\.0\.0\.1:\d+ \(self[- ]signed certificate\).*NODE_EXTRA_CA_CERTS=\/path\/to\/ca\.pem/);
  await refused(redis!.url.replace('rediss:', 'redis:'), /ECONNRESET.*a Redis that speaks only TLS resets plain connections: give a rediss:\/\/ URL/);
});

test('a coordinator and a worker run a study over rediss:// once the authority is trusted', { skip, timeout: 120_000 }, async () => {
  // Children read NODE_EXTRA_CA_CERTS at start; the CLI processes get this process's environment.
  const before_ = process.env.NODE_EXTRA_CA_CERTS;
  process.env.NODE_EXTRA_CA_CERTS = cert!.cert;
  try {
    const s = await Scene.create('sqlite', 'over-tls', { scenario: { steps: 10 }, budget: { trials: 4 }, finalValidation: { seeds: 0 } }, 10, redis!.url);
    scenes.push(s);
    const coordinator = s.coordinator();
    await until('the study in the database', async () => (await s.read()).study);
    const worker = s.worker();
    const done = await exitOf(coordinator, 100_000).catch((err: Error) => assert.fail(`${err.message}\nworker:\n${worker.out()}`));
    assert.equal(done.code, 0, `${done.out}\nworker:\n${worker.out()}`);
    const { study, trials } = await s.read();
    assert.equal(study?.state, 'COMPLETE', done.out);
    const searched = trials.filter((t) => countsTowardBudget(t.role));
    assert.deepEqual(searched.map((t) => t.state), ['COMPLETE', 'COMPLETE', 'COMPLETE', 'COMPLETE'], describeTrials(trials));
    assert.equal(s.trainings().size, trials.length, 'the worker trained every trial');
    const w = await exitOf(worker, 30_000);
    assert.equal(w.code, 0, w.out);
  } finally {
    if (before_ === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
    else process.env.NODE_EXTRA_CA_CERTS = before_;
  }
});

