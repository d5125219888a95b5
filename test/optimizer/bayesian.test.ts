// GP-specific behaviour beyond the shared conformance suite: batch spread for every batch strategy, maximization, acquisition choice, option checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BayesianOptimizer } from '../../src/optimizer/bayesian.js';
import { EncodedSpace } from '../../src/optimizer/space.js';
import { ConfigError } from '../../src/errors.js';
import type { BatchStrategy } from '../../src/optimizer/types.js';
import { branin } from '../../src/bench/bo/test_functions.js';

async function warmedUp(acquisition: 'logei' | 'ucb' | 'pi' = 'logei', batch: BatchStrategy = 'qlogei'): Promise<BayesianOptimizer> {
  const opt = new BayesianOptimizer({ space: branin.space, direction: 'minimize', seed: 4, acquisition, batch });
  for (let i = 0; i < 12; i++) {
    const [s] = await opt.ask(1);
    await opt.tell(s!.id, branin.f(s!.params));
  }
  return opt;
}

// The kriging believer only shrinks the variance next to a believed point, so its batches may cluster (here two
// members 0.008 apart): the reason it is not the default. It must still keep its members apart, not offsets of one.
for (const [strategy, minDist] of [['qlogei', 0.01], ['constant-liar', 0.01], ['kriging-believer', 1e-3]] as const) {
  test(`a batch from the model is spread out (${strategy}), not one point repeated with tiny offsets`, async () => {
    const opt = await warmedUp('logei', strategy);
    const batch = await opt.ask(4);
    const space = new EncodedSpace(branin.space);
    const xs = batch.map((s) => space.encode(s.params));
    for (let i = 0; i < xs.length; i++) {
      for (let j = 0; j < i; j++) {
        const dist = Math.hypot(xs[i]![0]! - xs[j]![0]!, xs[i]![1]! - xs[j]![1]!);
        assert.ok(dist > minDist, `batch members ${j} and ${i} are only ${dist} apart in the unit box`);
      }
    }
  });
}

test('the robustness options are checked and name the field', () => {
  const base = { space: branin.space, direction: 'minimize' as const };
  assert.throws(() => new BayesianOptimizer({ ...base, batch: 'believer' as BatchStrategy }), (e: unknown) => e instanceof ConfigError && e.field === 'optimizer.batch');
  assert.throws(() => new BayesianOptimizer({ ...base, trustRegion: 'yes' as unknown as boolean }), (e: unknown) => e instanceof ConfigError && e.field === 'optimizer.trustRegion');
  assert.throws(() => new BayesianOptimizer({ ...base, maxModelPoints: 5 }), (e: unknown) => e instanceof ConfigError && e.field === 'optimizer.maxModelPoints');
});

test('maximize: the optimizer climbs -branin as well as it descends branin', async () => {
  const opt = new BayesianOptimizer({ space: branin.space, direction: 'maximize', seed: 1 });
  let best = -Infinity;
  for (let i = 0; i < 25; i++) {
    const [s] = await opt.ask(1);
    const v = -branin.f(s!.params);
    best = Math.max(best, v);
    await opt.tell(s!.id, v);
  }
  assert.ok(-best - branin.optimum < 0.1, `best -branin ${best}, optimum ${-branin.optimum}`);
});

test('UCB and PI are selectable and give valid, different proposals from LogEI', async () => {
  const proposals = [];
  for (const a of ['logei', 'ucb', 'pi'] as const) {
    const [s] = await (await warmedUp(a)).ask(1);
    assert.ok(Number.isFinite(s!.params.x0) && Number.isFinite(s!.params.x1));
    proposals.push(JSON.stringify(s!.params));
  }
  assert.equal(new Set(proposals).size, 3, `proposals: ${proposals.join(' ')}`);
});
