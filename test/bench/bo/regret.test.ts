// The bench's run loop: traces, batches, and the noisy-function answer (recommend, not the luckiest draw).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RandomOptimizer } from '../../../src/optimizer/random.js';
import { BayesianOptimizer } from '../../../src/optimizer/bayesian.js';
import { runOnFunction } from '../../../src/bench/bo/regret.js';
import { branin, braninNoisy } from '../../../src/bench/bo/test_functions.js';

test('a run evaluates exactly `evals` points in batches and reports a non-increasing best-so-far regret', async () => {
  const r = await runOnFunction(new RandomOptimizer({ space: branin.space, direction: 'minimize', seed: 1 }), branin, 1, 10, 4);
  assert.equal(r.trace.length, 10);
  for (let i = 1; i < 10; i++) assert.ok(r.trace[i]! <= r.trace[i - 1]!);
  assert.equal(r.final, r.trace[9]);
  assert.equal(r.bestObservedFinal, undefined);
});

test('noisy functions: the final regret is that of the recommendation, next to that of the best noisy draw', async () => {
  const rnd = await runOnFunction(new RandomOptimizer({ space: braninNoisy.space, direction: 'minimize', seed: 2 }), braninNoisy, 2, 15, 1);
  // Random search recommends its best noisy draw: the two coincide.
  assert.equal(rnd.final, rnd.bestObservedFinal);
  assert.ok(rnd.final >= rnd.trace[14]!, 'the best draw by noisy value cannot beat the best noise-free value seen');
  const gp = await runOnFunction(new BayesianOptimizer({ space: braninNoisy.space, direction: 'minimize', seed: 2 }), braninNoisy, 2, 15, 1);
  assert.ok(Number.isFinite(gp.final) && gp.final >= 0 && gp.bestObservedFinal !== undefined);
});
