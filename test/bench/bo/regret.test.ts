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

/** Records each ask's count and how many suggestions were pending (asked, not yet told) when it came. */
function recorded(seed: number): { opt: RandomOptimizer; asks: Array<[count: number, pending: number]> } {
  const opt = new RandomOptimizer({ space: branin.space, direction: 'minimize', seed });
  const asks: Array<[number, number]> = [];
  let pending = 0;
  const ask = opt.ask.bind(opt);
  const tell = opt.tell.bind(opt);
  opt.ask = async (count = 1) => {
    asks.push([count, pending]);
    const got = await ask(count);
    pending += got.length;
    return got;
  };
  opt.tell = async (id, value) => {
    pending--;
    await tell(id, value);
  };
  return { opt, asks };
}

test('pacing: whole batches ask q with nothing pending; asynchronous asks q once, then one at a time with q - 1 pending', async () => {
  const batches = recorded(3);
  const a = await runOnFunction(batches.opt, branin, 3, 10, 4);
  assert.deepEqual(batches.asks, [[4, 0], [4, 0], [2, 0]]);
  const async = recorded(3);
  const b = await runOnFunction(async.opt, branin, 3, 10, 4, 'asynchronous');
  assert.deepEqual(async.asks, [[4, 0], [1, 3], [1, 3], [1, 3], [1, 3], [1, 3], [1, 3]]);
  // Both evaluate exactly `evals` points and tell them oldest first.
  assert.equal(a.trace.length, 10);
  assert.equal(b.trace.length, 10);
  // The first ask is the same either way.
  assert.deepEqual(b.trace.slice(0, 4), a.trace.slice(0, 4));
  // At batch 1 the two pacings are one and the same run.
  const one = recorded(4);
  const c = await runOnFunction(one.opt, branin, 4, 5, 1, 'asynchronous');
  assert.deepEqual(one.asks, Array(5).fill([1, 0]));
  assert.deepEqual(c.trace, (await runOnFunction(new RandomOptimizer({ space: branin.space, direction: 'minimize', seed: 4 }), branin, 4, 5, 1)).trace);
});
