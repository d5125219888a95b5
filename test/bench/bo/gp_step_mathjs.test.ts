// The mathjs GP step computes what the typed-array likelihood computes (so `bench bo` times equal work), and mathjs is an independent reference for its gradient.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { negLogPosterior } from '../../../src/gp/gp.js';
import { gpStepMathjs, gpStepProblem, mathjsDistances, timeGpStep } from '../../../src/bench/bo/gp_step_mathjs.js';

test('mathjs (datatype number) and Float64Array give the same likelihood and gradient, categorical dim included', () => {
  const { X, y, categorical, theta } = gpStepProblem(25, 4);
  const mj = gpStepMathjs(mathjsDistances(X, categorical), y, theta);
  const d = categorical.length;
  const ty = negLogPosterior({ X: Float64Array.from(X.flat()), y: Float64Array.from(y), n: 25, d, categorical: Uint8Array.from(categorical.map(Number)) }, Float64Array.from(theta), undefined, false);
  assert.ok(Math.abs(mj.value - ty.value) < 1e-9 * Math.max(1, Math.abs(ty.value)), `value ${mj.value} vs ${ty.value}`);
  mj.grad.forEach((g, k) => assert.ok(Math.abs(g - ty.grad[k]!) < 1e-8 * Math.max(1, Math.abs(ty.grad[k]!)), `grad[${k}] ${g} vs ${ty.grad[k]}`));
});

test('timeGpStep reports both timings and checks they computed the same thing', () => {
  const t = timeGpStep(20, 1);
  assert.ok(t.mathjsMs > 0 && t.typedMs > 0 && t.ratio === t.mathjsMs / t.typedMs);
  assert.ok(t.maxRelDiff < 1e-9, `results differ by ${t.maxRelDiff}`);
});
