// The GP against a textbook float64 reference written here with plain arrays and mathjs, and its gradients against finite differences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as math from 'mathjs';
import { GaussianProcess, negLogPosterior, type GpData } from '../../src/gp/gp.js';
import { defaultTheta, fitTheta } from '../../src/gp/fit.js';
import { Rng } from '../../src/gp/rng.js';

/** Matérn-5/2 written out directly from its definition (Rasmussen & Williams eq. 4.17), independent of src/gp/kernel.ts. */
function matern52(a: number[], b: number[], ls: number[], s2: number, cat: boolean[]): number {
  let r2 = 0;
  for (let k = 0; k < a.length; k++) {
    const diff = cat[k] ? (a[k] === b[k] ? 0 : 1) : a[k]! - b[k]!;
    r2 += (diff * diff) / (ls[k]! * ls[k]!);
  }
  const r = Math.sqrt(r2);
  return s2 * (1 + Math.sqrt(5) * r + (5 * r * r) / 3) * Math.exp(-Math.sqrt(5) * r);
}

function makeData(n: number, cat: boolean[], seed: number): { data: GpData; rows: number[][] } {
  const rng = new Rng(seed);
  const d = cat.length;
  const rows = Array.from({ length: n }, () => cat.map((c) => (c ? rng.int(3) : rng.uniform())));
  const y = rows.map((r) => Math.sin(5 * r[0]!) + (d > 1 ? r[1]! * r[1]! : 0) + (cat[d - 1] ? 0.3 * r[d - 1]! : 0) + 0.05 * rng.normal());
  return {
    rows,
    data: { X: Float64Array.from(rows.flat()), y: Float64Array.from(y), n, d, categorical: Uint8Array.from(cat.map(Number)) },
  };
}

const CAT = [false, false, true];
const THETA = Float64Array.from([Math.log(0.3), Math.log(0.7), Math.log(1.5), Math.log(1.3), Math.log(0.01)]);

test('posterior mean and variance match a direct mathjs computation', () => {
  const { data, rows } = makeData(15, CAT, 1);
  const ls = [0.3, 0.7, 1.5];
  const s2 = 1.3;
  const noise = 0.01;
  const K = rows.map((a, i) => rows.map((b, j) => matern52(a, b, ls, s2, CAT) + (i === j ? noise : 0)));
  const Kinv = math.inv(K) as number[][];
  const y = Array.from(data.y);
  const alpha = math.multiply(Kinv, y) as number[];
  const gp = GaussianProcess.create(data, THETA);
  const rng = new Rng(9);
  for (let q = 0; q < 8; q++) {
    const x = [rng.uniform(), rng.uniform(), rng.int(3)];
    const k = rows.map((r) => matern52(x, r, ls, s2, CAT));
    const mean = k.reduce((s, v, i) => s + v * alpha[i]!, 0);
    const variance = s2 - (math.dot(k, math.multiply(Kinv, k) as number[]) as number);
    const p = gp.predict(x);
    assert.ok(Math.abs(p.mean - mean) < 1e-8, `mean ${p.mean} vs reference ${mean}`);
    assert.ok(Math.abs(p.variance - variance) < 1e-8, `variance ${p.variance} vs reference ${variance}`);
  }
});

test('negative log marginal likelihood matches the textbook formula (prior off)', () => {
  const { data, rows } = makeData(10, CAT, 2);
  const ls = [0.3, 0.7, 1.5];
  const K = rows.map((a, i) => rows.map((b, j) => matern52(a, b, ls, 1.3, CAT) + (i === j ? 0.01 : 0)));
  const y = Array.from(data.y);
  const quad = math.dot(y, math.lusolve(K, y).map((r) => (r as number[])[0]!)) as number;
  const ref = 0.5 * quad + 0.5 * Math.log(math.det(K) as number) + 0.5 * 10 * Math.log(2 * Math.PI);
  const got = negLogPosterior(data, THETA, undefined, false).value;
  assert.ok(Math.abs(got - ref) < 1e-8 * Math.abs(ref), `nll ${got} vs reference ${ref}`);
});

test('likelihood gradient matches central finite differences for every hyperparameter', () => {
  const { data } = makeData(14, CAT, 3);
  const names = ['log l0', 'log l1', 'log l2 (categorical)', 'log s2', 'log noise'];
  for (const withPrior of [false, true]) {
    const { grad } = negLogPosterior(data, THETA, undefined, withPrior);
    for (let k = 0; k < THETA.length; k++) {
      const h = 1e-5;
      const tp = Float64Array.from(THETA);
      const tm = Float64Array.from(THETA);
      tp[k] += h;
      tm[k] -= h;
      const fd = (negLogPosterior(data, tp, undefined, withPrior).value - negLogPosterior(data, tm, undefined, withPrior).value) / (2 * h);
      assert.ok(Math.abs(grad[k]! - fd) < 1e-5 * (1 + Math.abs(fd)), `d/d ${names[k]} (prior ${withPrior}): analytic ${grad[k]}, finite difference ${fd}`);
    }
  }
});

/** predictWithGrad's mean and variance gradients in the first `dims` (continuous) dims against central differences. */
function assertPredictGradients(gp: GaussianProcess, x: number[], p: ReturnType<GaussianProcess['predictWithGrad']>, dims: number): void {
  for (let j = 0; j < dims; j++) {
    const h = 1e-6;
    const xp = [...x];
    const xm = [...x];
    xp[j] += h;
    xm[j] -= h;
    const fm = (gp.predict(xp).mean - gp.predict(xm).mean) / (2 * h);
    const fv = (gp.predict(xp).variance - gp.predict(xm).variance) / (2 * h);
    assert.ok(Math.abs(p.dMean[j]! - fm) < 1e-5 * (1 + Math.abs(fm)), `dMean[${j}] ${p.dMean[j]} vs ${fm}`);
    assert.ok(Math.abs(p.dVariance[j]! - fv) < 1e-5 * (1 + Math.abs(fv)), `dVariance[${j}] ${p.dVariance[j]} vs ${fv}`);
  }
}

test('predictWithGrad: mean and variance gradients match finite differences', () => {
  const { data } = makeData(12, CAT, 4);
  const gp = GaussianProcess.create(data, THETA);
  const x = [0.37, 0.61, 1];
  const p = gp.predictWithGrad(x);
  assertPredictGradients(gp, x, p, 2);
  assert.equal(p.dMean[2], 0, 'categorical dims carry no gradient');
});

test('condition() (one-row Cholesky extension) equals refitting with the point appended', () => {
  const { data } = makeData(10, CAT, 5);
  const gp = GaussianProcess.create(data, THETA);
  const xNew = [0.2, 0.9, 2];
  const yNew = 0.4;
  const a = gp.condition(xNew, yNew);
  const b = GaussianProcess.create(
    { ...data, n: 11, X: Float64Array.from([...data.X, ...xNew]), y: Float64Array.from([...data.y, yNew]) },
    THETA,
  );
  for (const x of [[0.21, 0.88, 2], [0.5, 0.5, 0]]) {
    assert.ok(Math.abs(a.predict(x).mean - b.predict(x).mean) < 1e-9);
    assert.ok(Math.abs(a.predict(x).variance - b.predict(x).variance) < 1e-9);
  }
});

test('fitTheta recovers a short lengthscale on a wiggly dimension and a long one on an irrelevant dimension', () => {
  const rng = new Rng(6);
  const n = 40;
  const rows = Array.from({ length: n }, () => [rng.uniform(), rng.uniform()]);
  const data: GpData = { X: Float64Array.from(rows.flat()), y: Float64Array.from(rows.map((r) => Math.sin(8 * r[0]!))), n, d: 2, categorical: new Uint8Array(2) };
  const theta = fitTheta(data, { rng: new Rng(1) });
  const l0 = Math.exp(theta[0]!);
  const l1 = Math.exp(theta[1]!);
  assert.ok(l0 < 1 && l1 > 10 * l0, `lengthscales ${l0} (relevant) and ${l1} (irrelevant)`);
  // The fit must not be worse than the default start.
  assert.ok(negLogPosterior(data, theta).value <= negLogPosterior(data, defaultTheta(2)).value);
});

test('duplicate inputs with a tiny noise still factor (jitter) and predict finite values', () => {
  const { data } = makeData(6, [false, false, false], 7);
  const X = Float64Array.from([...data.X, ...data.X.subarray(0, 3), ...data.X.subarray(0, 3)]);
  const dup: GpData = { ...data, n: 8, X, y: Float64Array.from([...data.y, data.y[0]!, data.y[0]!]) };
  const theta = Float64Array.from([Math.log(0.5), Math.log(0.5), Math.log(0.5), 0, Math.log(1e-6)]);
  const gp = GaussianProcess.create(dup, theta);
  const p = gp.predict([0.5, 0.5, 0.5]);
  assert.ok(Number.isFinite(p.mean) && p.variance > 0);
});

/** The additive-plus-product kernel written out from its definition (kernel.ts header), independently of kernel.ts. */
function mixed52(a: number[], b: number[], ls: number[], s2: number, cat: boolean[], w: number): number {
  const d = a.length;
  let add = 0;
  for (let k = 0; k < d; k++) {
    const one = [0];
    add += matern52([cat[k] ? (a[k] === b[k] ? 0 : 1) : a[k]! - b[k]!], one, [ls[k]!], 1, [false]);
  }
  return (1 - w) * matern52(a, b, ls, s2, cat) + (w / d) * s2 * add;
}

const THETA_ADD = Float64Array.from([...THETA, 0.4]); // logit a = 0.4, a = 0.599

test('additive term: likelihood matches the textbook formula, and K is the documented mix', () => {
  const { data, rows } = makeData(10, CAT, 12);
  const ls = [0.3, 0.7, 1.5];
  const w = 1 / (1 + Math.exp(-0.4));
  const K = rows.map((a, i) => rows.map((b, j) => mixed52(a, b, ls, 1.3, CAT, w) + (i === j ? 0.01 : 0)));
  const y = Array.from(data.y);
  const quad = math.dot(y, math.lusolve(K, y).map((r) => (r as number[])[0]!)) as number;
  const ref = 0.5 * quad + 0.5 * Math.log(math.det(K) as number) + 0.5 * 10 * Math.log(2 * Math.PI);
  const got = negLogPosterior(data, THETA_ADD, undefined, false).value;
  assert.ok(Math.abs(got - ref) < 1e-8 * Math.abs(ref), `nll ${got} vs reference ${ref}`);
  const gp = GaussianProcess.create(data, THETA_ADD);
  const x = [0.4, 0.2, 1];
  assert.ok(Math.abs(gp.kernelPair(x, rows[3]!).value - mixed52(x, rows[3]!, ls, 1.3, CAT, w)) < 1e-12);
});

test('additive term: likelihood gradient (all d + 3 entries) and prediction gradients match finite differences', () => {
  const { data } = makeData(14, CAT, 13);
  for (const withPrior of [false, true]) {
    const { grad } = negLogPosterior(data, THETA_ADD, undefined, withPrior);
    for (let k = 0; k < THETA_ADD.length; k++) {
      const h = 1e-5;
      const tp = Float64Array.from(THETA_ADD);
      const tm = Float64Array.from(THETA_ADD);
      tp[k] += h;
      tm[k] -= h;
      const fd = (negLogPosterior(data, tp, undefined, withPrior).value - negLogPosterior(data, tm, undefined, withPrior).value) / (2 * h);
      assert.ok(Math.abs(grad[k]! - fd) < 1e-5 * (1 + Math.abs(fd)), `d/d theta[${k}] (prior ${withPrior}): analytic ${grad[k]}, finite difference ${fd}`);
    }
  }
  const gp = GaussianProcess.create(data, THETA_ADD);
  const x = [0.37, 0.61, 1];
  const p = gp.predictWithGrad(x);
  assertPredictGradients(gp, x, p, 2);
  assert.ok(Math.abs(gp.predictMean(x) - p.mean) < 1e-12);
});

test('on an additive function the fit puts most weight on the additive term; on a product it does not', () => {
  const rng = new Rng(14);
  const n = 40;
  const rows = Array.from({ length: n }, () => [rng.uniform(), rng.uniform(), rng.uniform()]);
  const fit = (f: (r: number[]) => number) => {
    const y = rows.map(f);
    const m = y.reduce((s, v) => s + v, 0) / n;
    const sd = Math.sqrt(y.reduce((s, v) => s + (v - m) ** 2, 0) / n);
    const data: GpData = { X: Float64Array.from(rows.flat()), y: Float64Array.from(y, (v) => (v - m) / sd), n, d: 3, categorical: new Uint8Array(3) };
    const theta = fitTheta(data, { rng: new Rng(2) });
    return 1 / (1 + Math.exp(-theta[5]!));
  };
  const additive = fit((r) => Math.sin(6 * r[0]!) + Math.cos(5 * r[1]!) + 2 * (r[2]! - 0.5) ** 2);
  const product = fit((r) => Math.sin(6 * r[0]! * r[1]!) * Math.cos(4 * r[2]!));
  assert.ok(additive > 0.8, `additive weight ${additive} on a sum of 1-D terms`);
  assert.ok(product < additive - 0.3, `additive weight ${product} on a product vs ${additive} on a sum`);
});
