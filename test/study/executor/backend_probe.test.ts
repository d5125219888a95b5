// A worker given a native backend by name starts it on each device in a process of its own before taking trials:
// a machine whose TensorFlow finds no GPU is refused at start (exit 78), not at a first trial that may come hours
// later. tfjs-node-gpu is a fake here (test/fixtures/fake_gpu), answering as the real one does.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { probeBackend } from '../../../src/study/executor/backend_probe.js';
import { openStorage } from '../../../src/study/storage/index.js';
import { BackendError } from '../../../src/errors.js';
import { fakeGpuEnv } from '../../fixtures/fake_gpu/index.js';
import { gpuBackendPresent } from '../../fixtures/installed.js';
import { cli, deletePrefix, exitOf, REDIS_URL, redisSkip, until } from '../../distributed/helpers.js';

const main = fileURLToPath(new URL('../../../src/cli/main.js', import.meta.url));
const saved = { ...process.env };

/** This process's environment, which the probes copy, as a process with the fake package would have it. */
function withFake(gpu: boolean): void {
  Object.assign(process.env, fakeGpuEnv(gpu, {}));
}

afterEach(() => {
  for (const k of ['NODE_OPTIONS', 'RENORM_FAKE_GPU']) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

describe('probeBackend', { skip: gpuBackendPresent }, () => {
  it('starts the backend once per device, each in its own process: node-gpu on the GPU on both', async () => {
    withFake(true);
    assert.deepEqual(await probeBackend('node-gpu', ['0', '1']), [{ name: 'node-gpu', device: 'GPU' }, { name: 'node-gpu', device: 'GPU' }]);
  });

  it('refuses a device whose TensorFlow finds no GPU, naming the device and its CUDA_VISIBLE_DEVICES', async () => {
    withFake(false);
    await assert.rejects(probeBackend('node-gpu', ['3']), (err: unknown) => {
      assert.ok(err instanceof BackendError);
      assert.match(err.message, /^device 3: backend 'node-gpu': @tensorflow\/tfjs-node-gpu loaded, but TensorFlow found no GPU and would train on the CPU: CUDA_VISIBLE_DEVICES is '3'/);
      return true;
    });
  });

  it('refuses a package that is not installed, with the install line (no device named without --devices)', async () => {
    await assert.rejects(probeBackend('node-gpu', undefined), /^BackendError: backend 'node-gpu': @tensorflow\/tfjs-node-gpu is not installed or failed to load .*npm install @tensorflow\/tfjs-node-gpu@4\.22\.0/);
  });
});

describe('worker --backend node-gpu', { skip: gpuBackendPresent }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'renorm-probe-'));
  // A Redis nobody listens on: the probe comes before Redis is reached, so what the worker says first is the probe's.
  const args = ['worker', '--db', join(dir, 'w.db'), '--redis', 'redis://127.0.0.1:1', '--backend', 'node-gpu', '--devices', '0,1'];

  it('on a machine whose TensorFlow finds no GPU: exit 78 at start, naming the device, before Redis is reached', () => {
    const r = spawnSync(process.execPath, [main, ...args], { env: fakeGpuEnv(false), encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 78, r.stderr);
    assert.match(r.stderr, /error: device 0: backend 'node-gpu': @tensorflow\/tfjs-node-gpu loaded, but TensorFlow found no GPU .*\(refused on device 1 too\)\n/);
    assert.doesNotMatch(r.stderr, /Redis|6379|127\.0\.0\.1:1/, 'Redis was not reached');
  });

  it('with a GPU on each device: says so, then goes on (to a Redis that is not there: exit 1)', () => {
    const r = spawnSync(process.execPath, [main, ...args], { env: fakeGpuEnv(true), encoding: 'utf8', timeout: 120_000 });
    assert.match(r.stderr, /\[worker\] backend node-gpu on the GPU on devices 0, 1: started in a process of its own, as trials will be\n/);
    assert.equal(r.status, 1, r.stderr);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('worker --backend node-gpu on a queue', { skip: gpuBackendPresent }, async () => {
  const redisDown = await redisSkip();
  it('announces its backend, the device found and its devices: `renorm-tune queue` shows them', { skip: redisDown, timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'renorm-probe-q-'));
    const prefix = `probe${process.pid}`;
    const db = join(dir, 'w.db');
    // A worker opens a database its coordinator created: make it as one would.
    await (await openStorage(db)).close();
    const worker = cli(['worker', '--db', db, '--redis', REDIS_URL, '--redis-prefix', prefix, '--backend', 'node-gpu', '--devices', '0,1', '--idle-exit', '0'], fakeGpuEnv(true) as Record<string, string>);
    try {
      const seen = await until('the worker in the queue status', async () => {
        const q = await exitOf(cli(['queue', '--redis', REDIS_URL, '--redis-prefix', prefix]), 30_000);
        return /workers: 1,/.test(q.out) && q.out;
      }).catch((err: Error) => assert.fail(`${err.message}\nworker:\n${worker.out()}`));
      assert.match(seen, /\n  \S+:worker-\S+  2 slots  node-gpu on the GPU, devices 0, 1  renorm-tune /, `${seen}\nworker:\n${worker.out()}`);
    } finally {
      worker.child.kill('SIGTERM');
      await exitOf(worker, 30_000).catch(() => worker.child.kill('SIGKILL'));
      await deletePrefix(prefix);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
