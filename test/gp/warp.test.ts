// The Yeo-Johnson output warp: invertible and monotone, the ML lambda against a brute-force scan, posterior moments against Monte Carlo.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OutputWarp, yjLogLikelihood, LAMBDA_RANGE } from '../../src/gp/warp.js';
import { Rng } from '../../src/gp/rng.js';

function skewed(n: number, seed: number): number[] {
  const rng = new Rng(seed);
  // Log-normal: a long right tail like a quartic's bad values.
  return Array.from({ length: n }, () => Math.exp(1.2 * rng.normal()));
}

test('forward is increasing and inverse undoes it, up to almost a range beyond the data either side', () => {
  for (const data of [skewed(50, 1), skewed(50, 2).map((v) => -v), Array.from({ length: 30 }, (_, i) => Math.sin(i))]) {
    const w = OutputWarp.fit(data);
    const sorted = [...data].sort((a, b) => a - b);
    for (let i = 1; i < sorted.length; i++) assert.ok(w.forward(sorted[i]!) >= w.forward(sorted[i - 1]!), `not monotone at ${sorted[i]}`);
    const span = Math.max(...data) - Math.min(...data);
    for (const v of [...data, Math.min(...data) - 0.9 * span, Math.max(...data) + 0.9 * span]) {
      assert.ok(Math.abs(w.inverse(w.forward(v)) - v) < 1e-9 * Math.max(1, Math.abs(v)), `round trip of ${v} gave ${w.inverse(w.forward(v))} (lambda ${w.lambda})`);
    }
  }
});

test('lambda maximizes the Yeo-Johnson likelihood (checked by a fine scan) and compresses a right tail', () => {
  const data = skewed(80, 3);
  const w = OutputWarp.fit(data);
  const mean = data.reduce((a, b) => a + b, 0) / data.length;
  const sd = Math.sqrt(data.reduce((a, b) => a + (b - mean) ** 2, 0) / data.length);
  const z = data.map((v) => (v - mean) / sd);
  let bestL = 0;
  let bestV = -Infinity;
  for (let l = LAMBDA_RANGE[0]; l <= LAMBDA_RANGE[1]; l += 0.001) {
    const v = yjLogLikelihood(z, l);
    if (v > bestV) {
      bestV = v;
      bestL = l;
    }
  }
  assert.ok(Math.abs(w.lambda - bestL) < 0.01, `fitted lambda ${w.lambda}, scan ${bestL}`);
  assert.ok(w.lambda < 1, `a right tail needs lambda < 1, got ${w.lambda}`);
  // The warped values are standardized and far less skewed.
  const wv = data.map((v) => w.forward(v));
  const skew = (v: number[]) => {
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    const s = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length);
    return v.reduce((a, b) => a + ((b - m) / s) ** 3, 0) / v.length;
  };
  assert.ok(Math.abs(skew(wv)) < 0.3 * Math.abs(skew(data)), `skew ${skew(data)} -> ${skew(wv)}`);
});

test('moments of the back-transformed posterior agree with Monte Carlo', () => {
  const w = OutputWarp.fit(skewed(60, 4));
  const rng = new Rng(5);
  for (const [mean, variance] of [[0, 0.04], [-1, 0.3], [1.5, 0.5]] as const) {
    const got = w.moments(mean, variance);
    let s = 0;
    let s2 = 0;
    const N = 200000;
    for (let i = 0; i < N; i++) {
      const v = w.inverse(mean + Math.sqrt(variance) * rng.normal());
      s += v;
      s2 += v * v;
    }
    const mcMean = s / N;
    const mcSd = Math.sqrt(s2 / N - mcMean * mcMean);
    assert.ok(Math.abs(got.mean - mcMean) < 0.02 * Math.max(1, mcSd), `mean ${got.mean} vs MC ${mcMean}`);
    assert.ok(Math.abs(got.sd - mcSd) < 0.03 * mcSd, `sd ${got.sd} vs MC ${mcSd}`);
  }
  assert.deepEqual(w.moments(0.3, 0), { mean: w.inverse(0.3), sd: 0 });
});

test('far beyond the data the inverse is clamped to one range past it, never a pole', () => {
  const data = skewed(60, 4);
  const w = OutputWarp.fit(data);
  const span = Math.max(...data) - Math.min(...data);
  assert.ok(w.lambda < 0, `this data should give lambda < 0 (got ${w.lambda}), where the inverse has a pole`);
  assert.equal(w.inverse(1e6), Math.max(...data) + span);
  assert.equal(w.inverse(-1e6), Math.min(...data) - span);
  assert.ok(Number.isFinite(w.moments(3, 4).mean));
});

test('standardize is the identity up to scale (lambda 1)', () => {
  const w = OutputWarp.standardize([1, 2, 3, 4]);
  assert.equal(w.lambda, 1);
  assert.ok(Math.abs(w.forward(2.5)) < 1e-12 && Math.abs(w.inverse(w.forward(7)) - 7) < 1e-12);
});

test('a value past overflow (a diverged run at 1e160) keeps the warp finite and invertible; ordinary values are untouched', () => {
  for (const fit of [OutputWarp.fit, OutputWarp.standardize]) {
    const w = fit([0.1, 0.2, 0.3, 1e160]);
    const z = [0.1, 0.3, 1e160].map((y) => w.forward(y));
    assert.ok(z.every(Number.isFinite), `forward ${z}`);
    assert.ok(z[2]! > z[0]!, 'the outlier stays the largest');
    assert.ok(Math.abs(w.inverse(z[2]!) / 1e160 - 1) < 1e-9, `inverse(forward(1e160)) = ${w.inverse(z[2]!)}`);
    assert.ok(Number.isFinite(w.inverse(0)));
  }
  const all = OutputWarp.standardize([1e308, 1e308, 1e308]);
  assert.ok(Number.isFinite(all.forward(1e308)) && Number.isFinite(all.inverse(0)), 'equal values past overflow too');
  // The overflow path is taken only past overflow: an ordinary sample standardizes exactly as before.
  const y = [0.5, 1.5, 2.5];
  const w = OutputWarp.standardize(y);
  assert.deepEqual(y.map((v) => w.forward(v)), [-1, 0, 1].map((v) => v / Math.sqrt(2 / 3)));
});
