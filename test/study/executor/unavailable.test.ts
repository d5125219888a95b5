// A machine that cannot train (the study's backend does not start here) is told apart from a trial that fails: the
// real trial worker says so over its port, both executors pass it on, and a local run hands the trial back and stops
// with the reason instead of failing every trial in turn. The native backend is the real one: @tensorflow/tfjs-node-gpu
// is not installed on the test machines (a machine that has it skips these tests, for want of a broken backend).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { BackendError } from '../../../src/errors.js';
import { PiscinaExecutor, ProcessExecutor, type Executor, type TrialJob } from '../../../src/study/executor/index.js';
import { validateStudyConfig } from '../../../src/study/config.js';
import { runStudy } from '../../../src/study/runner.js';
import { createStudyService } from '../../../src/study/service/defaults.js';
import { MemoryStorage } from '../../../src/study/storage/index.js';
import { validateScenario } from '../../../src/train/scenario.js';
import { gpuBackendPresent } from '../../fixtures/installed.js';

const skip = gpuBackendPresent;
const throws = fileURLToPath(new URL('../../fixtures/workers/throws.js', import.meta.url));

const scenario = validateScenario({
  dataset: 'mnist', model: { type: 'mlp', hidden: [8] }, batchSize: 8, sampler: { type: 'classes', k: 2 },
  steps: 6, evalInterval: 3, validationSize: 100, evalSize: 50, trainSubset: 500,
});
const job = (backend?: 'node-gpu'): TrialJob => ({
  trialId: 1, scenario: scenario as unknown as Record<string, unknown>, schedule: { kind: 'paper' }, seed: 7, ...(backend ? { backend } : {}),
});

const executors: [string, () => Executor, () => Executor][] = [
  ['thread pool', () => new PiscinaExecutor({ workers: 1 }), () => new PiscinaExecutor({ workers: 1, filename: throws })],
  ['child processes', () => new ProcessExecutor({ processes: 1 }), () => new ProcessExecutor({ processes: 1, filename: throws, loadDataset: false })],
];

for (const [name, real, throwing] of executors) {
  test(`${name}: a backend that does not start is a failure marked unavailable; a trainer that throws is not`, { skip }, async () => {
    const ex = real();
    try {
      const out = await ex.start(job('node-gpu')).outcome;
      assert.equal(out.kind, 'failed', JSON.stringify(out));
      assert.ok(out.kind === 'failed' && out.unavailable === true, JSON.stringify(out));
      assert.match(out.kind === 'failed' ? out.reason : '', /backend 'node-gpu': @tensorflow\/tfjs-node-gpu is not installed or failed to load/);
      // The same executor trains on afterwards: the machine is not broken for another backend.
      assert.equal((await ex.start(job()).outcome).kind, 'ok');
    } finally {
      await ex.close();
    }
    const other = throwing();
    try {
      const out = await other.start(job()).outcome;
      assert.equal(out.kind, 'failed');
      assert.equal(out.kind === 'failed' && out.unavailable, undefined, 'a trial that throws is the trial\'s failure');
    } finally {
      await other.close();
    }
  });
}

test('a local run on a machine whose backend does not start: the trial goes back to WAITING, the run stops with the reason, nothing FAILs', { skip }, async () => {
  const storage = new MemoryStorage();
  const service = createStudyService(storage);
  const config = validateStudyConfig({ name: 'no-gpu-here', seed: 3, backend: 'node-gpu', scenario: { ...scenario, steps: 6 }, budget: { trials: 4 }, optimizer: { type: 'random' } });
  const executor = new ProcessExecutor({ processes: 1 });
  try {
    await assert.rejects(runStudy(config, { service, executor }), (e: unknown) => {
      assert.ok(e instanceof BackendError, String(e));
      assert.match((e as Error).message, /^this machine cannot train trial #0 of 'no-gpu-here': backend 'node-gpu': @tensorflow\/tfjs-node-gpu is not installed/);
      return true;
    });
    const study = await service.resolve('no-gpu-here');
    const trials = await service.listTrials(study.id);
    assert.deepEqual(trials.filter((t) => t.state !== 'WAITING').map((t) => `#${t.number} ${t.state}`), [], 'every trial waits for a machine that can train it');
    assert.equal(trials[0]!.retries, 0, 'handed back, not counted as a retry');
  } finally {
    await executor.close();
    service.close();
    await storage.close();
  }
});
