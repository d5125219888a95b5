import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MedianPruner, createPruner } from '../../../src/study/pruners/index.js';
import { ConfigError } from '../../../src/errors.js';
import { decide, mkTrial } from './helpers.js';

// Three finished trials with values 0.5, 0.6, 0.7 at step 100: the median is 0.6.
const done = () => [mkTrial([[50, 0.3], [100, 0.5]]), mkTrial([[50, 0.4], [100, 0.6]]), mkTrial([[50, 0.5], [100, 0.7]])];

test('median: a maximize trial below the median at the same step is pruned, above is kept', async () => {
  const p = new MedianPruner('maximize', { minTrials: 3 });
  const all = done();
  const low = mkTrial([[50, 0.2], [100, 0.55]], 'RUNNING');
  const high = mkTrial([[50, 0.2], [100, 0.65]], 'RUNNING');
  assert.equal(await decide(p, low, [...all, low, high]), true, '0.55 < median 0.6 must prune');
  assert.equal(await decide(p, high, [...all, low, high]), false, '0.65 > median 0.6 must not prune');
});

test('median: uses the trial best so far, not its latest value', async () => {
  const p = new MedianPruner('maximize', { minTrials: 3 });
  const dipped = mkTrial([[50, 0.45], [100, 0.1]], 'RUNNING'); // best 0.45 vs median at step 100 = 0.6
  assert.equal(await decide(p, dipped, [...done(), dipped]), true);
  const recovered = mkTrial([[50, 0.65], [100, 0.1]], 'RUNNING'); // best 0.65 > 0.6
  assert.equal(await decide(p, recovered, [...done(), recovered]), false);
});

test('median: minimize direction flips the comparison', async () => {
  const p = new MedianPruner('minimize', { minTrials: 3 });
  const t = mkTrial([[100, 0.55]], 'RUNNING');
  assert.equal(await decide(p, t, [...done(), t]), false, 'loss 0.55 < median 0.6 is good when minimizing');
  const u = mkTrial([[100, 0.65]], 'RUNNING');
  assert.equal(await decide(p, u, [...done(), u]), true);
});

test('median: warm-up steps and min trials hold pruning back', async () => {
  const t = mkTrial([[50, 0.0]], 'RUNNING');
  assert.equal(await decide(new MedianPruner('maximize', { warmupSteps: 60, minTrials: 3 }), t, [...done(), t]), false, 'inside warm-up');
  assert.equal(await decide(new MedianPruner('maximize', { warmupSteps: 50, minTrials: 3 }), t, [...done(), t]), true, 'warm-up over');
  assert.equal(await decide(new MedianPruner('maximize', { minTrials: 4 }), t, [...done(), t]), false, 'only 3 COMPLETE trials');
});

test('median: running, pruned and final-validation trials are not part of the median', async () => {
  const p = new MedianPruner('maximize', { minTrials: 1 });
  const t = mkTrial([[100, 0.5]], 'RUNNING');
  const others = [mkTrial([[100, 0.9]], 'RUNNING'), mkTrial([[100, 0.9]], 'PRUNED'), mkTrial([[100, 0.9]], 'COMPLETE', 'final:best'), mkTrial([[100, 0.4]])];
  assert.equal(await decide(p, t, [...others, t]), false, 'only the COMPLETE search trial (0.4) counts');
});

test('median: baselines are not peers (the service never asks a pruner about one: see the service tests)', async () => {
  const p = new MedianPruner('maximize', { minTrials: 3 });
  const t = mkTrial([[100, 0.55]], 'RUNNING');
  const strongBaselines = [mkTrial([[100, 0.99]], 'COMPLETE', 'baseline:batchnorm'), mkTrial([[100, 0.99]], 'COMPLETE', 'baseline:paper')];
  assert.equal(await decide(p, t, [...done().slice(0, 2), ...strongBaselines, t]), false, 'two search peers are fewer than minTrials 3');
});

test('median: a NaN-only curve is pruned; a step nobody else reported is not judged', async () => {
  const p = new MedianPruner('maximize', { minTrials: 3 });
  const nan = mkTrial([[100, NaN]], 'RUNNING');
  assert.equal(await decide(p, nan, [...done(), nan]), true);
  const odd = mkTrial([[75, 0.0]], 'RUNNING');
  assert.equal(await decide(p, odd, [...done(), odd]), false);
});

test('createPruner: bad options name the field', async () => {
  assert.throws(() => createPruner({ type: 'median', warmupSteps: -1 }, 'maximize'), (e: unknown) => e instanceof ConfigError && e.field === 'pruner.warmupSteps');
  assert.throws(() => createPruner({ type: 'nope' } as never, 'maximize'), (e: unknown) => e instanceof ConfigError && e.field === 'pruner.type');
  assert.equal(await decide(createPruner(undefined, 'maximize'), mkTrial([[1, 0]]), []), false);
});
