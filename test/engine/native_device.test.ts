// tfjs-node-gpu that finds no GPU (CUDA 11.2 or cuDNN 8.1 missing, no driver, CUDA_VISIBLE_DEVICES naming no GPU)
// loads and trains on the CPU without a word: asked for by name that is an error, under `auto` a warning, and the
// device is reported beside the backend. The package cannot be installed here, so processes run with a fake of it
// (test/fixtures/fake_gpu) that says, as the real one does, whether TensorFlow found a GPU.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nativeDevice, noGpuDiagnosis } from '../../src/engine/native_device.js';
import { BackendError } from '../../src/errors.js';
import { fakeGpuEnv } from '../fixtures/fake_gpu/index.js';
import { gpuBackendPresent } from '../fixtures/installed.js';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
// Starts a backend as a trial's process would and prints what came of it (the worker's start-up check uses it too).
const probeChild = fileURLToPath(new URL('../../workers/backend_probe.js', import.meta.url));

describe('nativeDevice', () => {
  it('a GPU found is the device; native CPU TensorFlow (tfjs-node) is the CPU; a build that does not say stays unknown', () => {
    assert.deepEqual(nativeDevice('node-gpu', { isUsingGpuDevice: true }, true), { device: 'GPU' });
    assert.deepEqual(nativeDevice('node', { isUsingGpuDevice: false }, true), { device: 'CPU' });
    assert.deepEqual(nativeDevice('node-gpu', {}, true), {});
  });

  it('node-gpu asked for by name without a GPU is a BackendError naming the libraries, the devices variable and the fix', () => {
    assert.throws(() => nativeDevice('node-gpu', { isUsingGpuDevice: false }, true, { CUDA_VISIBLE_DEVICES: '3' }), (err: unknown) => {
      assert.ok(err instanceof BackendError);
      assert.equal(err.code, 'BACKEND_UNAVAILABLE');
      assert.match(err.message, /^backend 'node-gpu': @tensorflow\/tfjs-node-gpu loaded, but TensorFlow found no GPU and would train on the CPU: /);
      assert.match(err.message, /CUDA_VISIBLE_DEVICES is '3' in this process/);
      assert.match(err.message, /CUDA 11\.2 and cuDNN 8\.1 .*LD_LIBRARY_PATH.*nvidia-smi/);
      assert.match(err.message, /\(fix: make the GPU visible to TensorFlow as above, or choose backend 'wasm'\)$/);
      return true;
    });
  });

  it('under auto it trains on the CPU with a warning that says how to make it an error; the variable is named only when set', () => {
    const got = nativeDevice('node-gpu', { isUsingGpuDevice: false }, false, {});
    assert.equal(got.device, 'CPU');
    assert.match(got.warning ?? '', /TensorFlow found no GPU: trials train on the CPU \(native TensorFlow\), far slower\. tfjs-node-gpu 4\.22 needs/);
    assert.match(got.warning ?? '', /Ask for backend 'node-gpu' by name to make this an error\.$/);
    assert.doesNotMatch(noGpuDiagnosis({}), /CUDA_VISIBLE_DEVICES/);
  });
});

/** initBackend(`name`) in a process with the fake package: its result, or the error's code and message (exit 3). */
function initIn(name: string, gpu: boolean, extra: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [probeChild, name], { env: { ...fakeGpuEnv(gpu), ...extra }, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: JSON.parse(r.stdout.trim().split('\n').pop() || 'null') as Record<string, string>, stderr: r.stderr };
}

describe('initBackend with tfjs-node-gpu (a fake of it)', { skip: gpuBackendPresent }, () => {
  it('finds the GPU: node-gpu on the GPU, by name and under auto, without a warning', () => {
    for (const name of ['node-gpu', 'auto']) {
      const r = initIn(name, true);
      assert.deepEqual(r.out, { name: 'node-gpu', device: 'GPU' }, r.stderr);
      assert.doesNotMatch(r.stderr, /WARNING/);
    }
  });

  it('finds no GPU: by name a BackendError naming CUDA_VISIBLE_DEVICES; under auto node-gpu on the CPU, warned once', () => {
    const named = initIn('node-gpu', false, { CUDA_VISIBLE_DEVICES: '1' });
    assert.equal(named.status, 3, named.stderr);
    assert.equal(named.out.code, 'BACKEND_UNAVAILABLE');
    assert.match(named.out.message!, /TensorFlow found no GPU .*CUDA_VISIBLE_DEVICES is '1'/);
    const auto = initIn('auto', false);
    assert.deepEqual(auto.out, { name: 'node-gpu', device: 'CPU' }, auto.stderr);
    assert.equal(auto.stderr.match(/renorm-tune WARNING: backend 'node-gpu': .* found no GPU/g)?.length, 1, auto.stderr);
  });

  it('`train`: by name exit 1 with the error before any training; under auto it trains and reports the CPU', () => {
    const dir = mkdtempSync(join(tmpdir(), 'renorm-fake-gpu-'));
    try {
      const config = join(dir, 'train.json');
      writeFileSync(config, JSON.stringify({
        scenario: { dataset: 'mnist', model: { type: 'mlp' }, batchSize: 4, sampler: { type: 'iid' }, steps: 2, optimizer: { type: 'adam', learningRate: 0.001 }, evalInterval: 2, validationSize: 100, evalSize: 50 },
      }));
      const named = spawnSync(process.execPath, [main, 'train', config, '--backend', 'node-gpu'], { env: fakeGpuEnv(false), encoding: 'utf8', timeout: 120_000 });
      assert.equal(named.status, 1, named.stderr);
      assert.match(named.stderr, /backend 'node-gpu': @tensorflow\/tfjs-node-gpu loaded, but TensorFlow found no GPU/);
      assert.doesNotMatch(named.stderr, /step \d/, 'no step was trained');
      const auto = spawnSync(process.execPath, [main, 'train', config, '--json'], { env: fakeGpuEnv(false), encoding: 'utf8', timeout: 300_000 });
      assert.equal(auto.status, 0, auto.stderr);
      const summary = JSON.parse(auto.stdout) as { backend: string; device: string; steps: number };
      assert.deepEqual([summary.backend, summary.device, summary.steps], ['node-gpu', 'CPU', 2]);
      assert.match(auto.stderr, /steps 2, backend node-gpu on the CPU, /);
      assert.match(auto.stderr, /renorm-tune WARNING: backend 'node-gpu'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
