import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PiscinaExecutor, type TrialJob, type TrialProgress } from '../../../src/study/executor/index.js';
import { loadDataset } from '../../../src/data/index.js';
import { validateScenario } from '../../../src/train/scenario.js';

// The real worker (dist/workers/trial.js) over the real trainer, on a scenario small enough to take a second or two.
const scenario = validateScenario({
  dataset: 'mnist', model: { type: 'mlp', hidden: [8] }, batchSize: 8, sampler: { type: 'classes', k: 2 },
  steps: 9, evalInterval: 3, validationSize: 100, evalSize: 50, trainSubset: 500,
});
const job = (trialId: number): TrialJob => ({ trialId, scenario: scenario as unknown as Record<string, unknown>, schedule: { kind: 'paper' }, seed: 7 });

test('trial worker: trains on the shared dataset, streams progress, and honours a stop request', async () => {
  let loads = 0;
  const ex = new PiscinaExecutor({ workers: 1, loadDataset: (s) => (loads++, loadDataset((s as { dataset: 'mnist' }).dataset)) });
  try {
    const seen: TrialProgress[] = [];
    const out = await ex.start(job(1), { onProgress: (p) => seen.push(p) }).outcome;
    assert.equal(out.kind, 'ok', JSON.stringify(out));
    assert.deepEqual(seen.map((p) => p.step), [3, 6, 9]);
    assert.ok(out.kind === 'ok' && out.result.steps === 9 && out.result.valAccuracy !== null && out.result.valAccuracy >= 0 && out.result.valAccuracy <= 1);
    assert.equal(out.kind === 'ok' && 'curve' in out.result, false, 'the curve is streamed, not sent twice');

    const run = ex.start(job(2), { onProgress: () => run.stop() });
    const stopped = await run.outcome;
    assert.equal(stopped.kind, 'stopped', JSON.stringify(stopped));
    // The request reaches the worker while it trains on; the trainer checks it at its next evaluation.
    assert.ok(stopped.kind === 'stopped' && stopped.result.steps < 9, `stopped early, at step ${stopped.kind === 'stopped' ? stopped.result.steps : '?'}`);
    assert.equal(loads, 1, 'the dataset is loaded once for both trials');
  } finally {
    await ex.close();
  }
});
