// The hyperparameter fit's safety net: leave-one-out against brute-force refits, degenerate fits detected and replaced, healthy fits left alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as math from 'mathjs';
import { GaussianProcess, type GpData } from '../../src/gp/gp.js';
import { degeneracy, fitGp, MEAN_BASELINE_LPD, subsetData } from '../../src/gp/fit.js';
import { lengthscalePriorMean } from '../../src/gp/prior.js';
import { Rng } from '../../src/gp/rng.js';

function data(n: number, d: number, f: (x: number[]) => number, seed: number): GpData {
  const rng = new Rng(seed);
  const rows = Array.from({ length: n }, () => Array.from({ length: d }, () => rng.uniform()));
  const y = rows.map(f);
  const m = y.reduce((a, b) => a + b, 0) / n;
  const s = Math.sqrt(y.reduce((a, b) => a + (b - m) ** 2, 0) / n);
  return { X: Float64Array.from(rows.flat()), y: Float64Array.from(y, (v) => (v - m) / s), n, d, categorical: new Uint8Array(d) };
}

test('looLogPredictive equals refitting without each point (same hyperparameters), computed with mathjs', () => {
  const dat = data(12, 2, (x) => Math.sin(4 * x[0]!) + x[1]!, 1);
  const theta = Float64Array.from([Math.log(0.4), Math.log(0.6), 0, Math.log(0.01)]);
  const gp = GaussianProcess.create(dat, theta);
  let lpd = 0;
  for (let i = 0; i < dat.n; i++) {
    const rows = Array.from({ length: dat.n }, (_, r) => r).filter((r) => r !== i);
    const sub = GaussianProcess.create(subsetData(dat, rows), theta);
    const x = dat.X.subarray(i * 2, i * 2 + 2);
    const p = sub.predict(x);
    const v = p.variance + Math.exp(theta[3]!);
    lpd += -0.5 * Math.log(2 * Math.PI * v) - (dat.y[i]! - p.mean) ** 2 / (2 * v);
  }
  lpd /= dat.n;
  assert.ok(Math.abs(gp.looLogPredictive() - lpd) < 1e-8, `closed form ${gp.looLogPredictive()} vs refits ${lpd}`);
  // And the subset helper picks the rows it is asked for (checked against mathjs's index).
  const sub = subsetData(dat, [3, 0]);
  assert.deepEqual(Array.from(sub.X), (math.subset(math.matrix(Array.from({ length: 12 }, (_, r) => [dat.X[2 * r]!, dat.X[2 * r + 1]!])), math.index([3, 0], [0, 1])) as math.Matrix).toArray().flat());
});

test('a smooth function fits without fallback and predicts its held-out points better than the mean', () => {
  const dat = data(30, 3, (x) => Math.sin(3 * x[0]!) + x[1]! ** 2, 2);
  const r = fitGp(dat, { rng: new Rng(1) });
  assert.deepEqual(r.diagnostics.reasons, []);
  assert.equal(r.diagnostics.fallback, false);
  assert.ok(r.diagnostics.looLpd > MEAN_BASELINE_LPD + 0.5, `LOO ${r.diagnostics.looLpd}`);
});

test('white-noise lengthscales and an overconfident interpolant of noise are both flagged', () => {
  const rng = new Rng(1003); // not the rows' seed: the values must be independent of the inputs
  const dat = data(25, 2, () => rng.normal(), 3);
  const white = Float64Array.from([Math.log(0.005), Math.log(0.005), 0, Math.log(1e-6)]);
  const w = GaussianProcess.create(dat, white);
  assert.deepEqual(degeneracy(white, dat.categorical, w.looLogPredictive()), ['lengthscale-at-lower-bound']);
  // Lengthscales near the point spacing with no noise: it interpolates the noise and predicts held-out points confidently wrong.
  const tight = Float64Array.from([Math.log(0.15), Math.log(0.15), 0, Math.log(1e-6)]);
  const t = GaussianProcess.create(dat, tight);
  assert.ok(t.looLogPredictive() < MEAN_BASELINE_LPD, `LOO ${t.looLogPredictive()}`);
  assert.deepEqual(degeneracy(tight, dat.categorical, t.looLogPredictive()), ['loo-worse-than-mean']);
});

test('when the MAP fit is degenerate the fallback uses the prior median lengthscales; a kept fit is never worse than the mean', () => {
  let fellBack = 0;
  for (let seed = 0; seed < 6; seed++) {
    const rng = new Rng(900 + seed); // not the rows' seed: the values must be independent of the inputs
    // Pure noise of varying size: the hardest case for a MAP fit.
    const dat = data(8 + 4 * seed, 2, () => rng.normal(), 100 + seed);
    const r = fitGp(dat, { rng: new Rng(seed) });
    if (r.diagnostics.fallback) {
      fellBack++;
      assert.ok(r.diagnostics.reasons.length > 0);
      for (let k = 0; k < 2; k++) assert.ok(Math.abs(r.theta[k]! - lengthscalePriorMean(2)) < 1e-12, 'fallback lengthscales are the prior median');
    } else {
      assert.ok(r.diagnostics.looLpd >= MEAN_BASELINE_LPD, `seed ${seed}: kept a fit with LOO ${r.diagnostics.looLpd}`);
    }
  }
  assert.ok(fellBack > 0, 'pure noise never triggered the fallback: the check is not exercised');
});

test('a categorical with a tiny lengthscale is not degenerate (unrelated choices), a continuous one is', () => {
  const theta = Float64Array.from([Math.log(0.005), Math.log(0.5), 0, Math.log(1e-3)]);
  assert.deepEqual(degeneracy(theta, Uint8Array.from([1, 0]), 0), []);
  assert.deepEqual(degeneracy(theta, Uint8Array.from([0, 0]), 0), ['lengthscale-at-lower-bound']);
  assert.deepEqual(degeneracy(Float64Array.from([0, 0, Math.log(1e-3), -3]), Uint8Array.from([0, 0]), 0), ['signal-collapsed']);
});
