// Total-order Sobol importance against analytic indices of known functions, on continuous, integer and categorical dims.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { totalSobolImportance } from '../../src/gp/importance.js';
import type { DimSpec } from '../../src/gp/optimize_acqf.js';

const cont: DimSpec = { kind: 'continuous' };
const sharesOf = (...a: Parameters<typeof totalSobolImportance>) => totalSobolImportance(...a).shares!;

test('additive function: total indices equal the analytic variance shares (x0: 1/12, x1: 4 * 4/45, x2 inert)', () => {
  // f = x0 + 2 x1^2 on U[0,1]^3: Var(x0) = 1/12, Var(2 x1^2) = 4 (1/5 - 1/9) = 16/45; no interactions.
  const st = sharesOf((x) => x[0]! + 2 * x[1]! ** 2, [cont, cont, cont], { seed: 1, samples: 4096 });
  const v0 = 1 / 12;
  const v1 = 16 / 45;
  assert.ok(Math.abs(st[0]! - v0 / (v0 + v1)) < 0.01, `x0 ${st[0]} vs ${v0 / (v0 + v1)}`);
  assert.ok(Math.abs(st[1]! - v1 / (v0 + v1)) < 0.01, `x1 ${st[1]} vs ${v1 / (v0 + v1)}`);
  assert.equal(st[2], 0);
});

test('a pure interaction x0 * x1 splits evenly; a first-order index would miss most of it', () => {
  // f = (x0 - 1/2)(x1 - 1/2): no main effects at all, S_T0 = S_T1 = 1.
  const st = sharesOf((x) => (x[0]! - 0.5) * (x[1]! - 0.5), [cont, cont, cont], { seed: 2 });
  assert.ok(Math.abs(st[0]! - 0.5) < 0.02 && Math.abs(st[1]! - 0.5) < 0.02 && st[2]! === 0, Array.from(st).join());
});

test('categorical and integer dims are sampled over their choices and levels', () => {
  const grid = Float64Array.from([0.125, 0.375, 0.625, 0.875]);
  const dims: DimSpec[] = [{ kind: 'categorical', choices: 3 }, { kind: 'grid', grid }, cont];
  // Only the categorical matters, and only choice 2.
  const st = sharesOf((x) => (x[0] === 2 ? 1 : 0), dims, { seed: 3 });
  assert.ok(st[0]! > 0.999 && st[1]! < 1e-12 && st[2]! < 1e-12, Array.from(st).join());
  const st2 = sharesOf((x) => x[1]!, dims, { seed: 4 });
  assert.ok(st2[1]! > 0.999, Array.from(st2).join());
});

test('a constant function has no shares (equal ones would claim every parameter matters as much) and a variance of 0', () => {
  assert.deepEqual(totalSobolImportance(() => 3, [cont, cont], { seed: 5 }), { shares: null, variance: 0 });
  assert.deepEqual(totalSobolImportance(() => 3, [cont, { kind: 'categorical', choices: 1 }, cont], { seed: 5 }), { shares: null, variance: 0 });
});

test('the variance returned is the function\'s total variance on the box (x0 on U[0,1]: 1/12)', () => {
  const { variance } = totalSobolImportance((x) => x[0]!, [cont, cont], { seed: 6, samples: 4096 });
  assert.ok(Math.abs(variance - 1 / 12) < 1e-3, String(variance));
});
