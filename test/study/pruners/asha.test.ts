import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AshaPruner } from '../../../src/study/pruners/index.js';
import { ConfigError } from '../../../src/errors.js';
import { decide, mkTrial } from './helpers.js';

// Rungs at 10, 30, 90 steps (minResource 10, η 3).
const asha = (dir: 'maximize' | 'minimize' = 'maximize') => new AshaPruner(dir, { minResource: 10, reductionFactor: 3 });

test('asha: rung steps are minResource·η^k', async () => {
  const p = asha();
  assert.deepEqual([0, 1, 2].map((k) => p.rungStep(k)), [10, 30, 90]);
});

test('asha: the first trial at a rung is promoted (it is the best there)', async () => {
  const t = mkTrial([[10, 0.1]], 'RUNNING');
  assert.equal(await decide(asha(), t, [t]), false);
});

test('asha: with 6 trials at a rung only the top 2 (1/η) are promoted', async () => {
  const others = [0.1, 0.2, 0.3, 0.4, 0.5].map((v) => mkTrial([[10, v], [20, v]], 'COMPLETE'));
  const third = mkTrial([[10, 0.35]], 'RUNNING'); // ranks 3rd of 6 -> pruned
  const second = mkTrial([[10, 0.45]], 'RUNNING'); // ranks 2nd of 6 -> promoted
  assert.equal(await decide(asha(), third, [...others, third]), true);
  assert.equal(await decide(asha(), second, [...others, second]), false);
});

test('asha: minimize ranks low values first', async () => {
  const others = [0.1, 0.2, 0.3, 0.4, 0.5].map((v) => mkTrial([[10, v]], 'COMPLETE'));
  const t = mkTrial([[10, 0.15]], 'RUNNING'); // 2nd lowest of 6
  assert.equal(await decide(asha('minimize'), t, [...others, t]), false);
  const u = mkTrial([[10, 0.25]], 'RUNNING'); // 3rd lowest of 6
  assert.equal(await decide(asha('minimize'), u, [...others, u]), true);
});

test('asha: decisions happen only when a rung is first crossed', async () => {
  const others = [0.8, 0.9, 0.95].map((v) => mkTrial([[10, v]], 'COMPLETE'));
  // Between rungs (step 20, previous report at 10): no decision even though it is the worst.
  const t = mkTrial([[10, 0.99], [20, 0.0]], 'RUNNING');
  assert.equal(await decide(asha(), t, [...others, t]), false);
});

test('asha: the rung value is the first report at or after the rung step', async () => {
  // Sparse evaluation: this trial reports at 12 (crossing rung 10) with 0.05; others reached rung 10 with better values.
  const others = [0.5, 0.6, 0.7].map((v) => mkTrial([[10, v], [30, v + 0.1]], 'COMPLETE'));
  const t = mkTrial([[12, 0.05]], 'RUNNING');
  assert.equal(await decide(asha(), t, [...others, t]), true);
});

test('asha: a report crossing two rungs is judged at the higher one', async () => {
  // At rung 30 only two others got there (0.2, 0.3): with 3 competitors the single best is promoted.
  const others = [mkTrial([[10, 0.9], [30, 0.2]]), mkTrial([[10, 0.9], [30, 0.3]]), mkTrial([[10, 0.9]])];
  const t = mkTrial([[35, 0.25]], 'RUNNING');
  assert.equal(await decide(asha(), t, [...others, t]), true, '0.25 is not the best at rung 30');
  const u = mkTrial([[35, 0.5]], 'RUNNING');
  assert.equal(await decide(asha(), u, [...others, u]), false);
});

test('asha: baselines are not competitors at a rung; NaN at a rung is pruned', async () => {
  const others = [0.5, 0.6, 0.7].map((v) => mkTrial([[10, v]]));
  const b = mkTrial([[10, 0.99]], 'COMPLETE', 'baseline:paper');
  const t = mkTrial([[10, 0.75]], 'RUNNING');
  assert.equal(await decide(asha(), t, [...others, b, t]), false, '0.75 is the best of the 4 search trials; the 0.99 baseline does not count');
  const n = mkTrial([[10, NaN]], 'RUNNING');
  assert.equal(await decide(asha(), n, [...others, n]), true);
});

test('asha: bad options name the field', async () => {
  assert.throws(() => new AshaPruner('maximize', { reductionFactor: 1 }), (e: unknown) => e instanceof ConfigError && e.field === 'pruner.reductionFactor');
  assert.throws(() => new AshaPruner('maximize', { minResource: 0 }), (e: unknown) => e instanceof ConfigError && e.field === 'pruner.minResource');
});
