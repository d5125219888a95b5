// Batch qLogEI: against a plain Monte Carlo estimate from the joint posterior (mathjs), its gradient against finite differences, and the batch behaviour it exists for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as math from 'mathjs';
import { GaussianProcess, type GpData } from '../../src/gp/gp.js';
import { logEI } from '../../src/gp/acquisition.js';
import { normCdf, normQuantile } from '../../src/gp/normal.js';
import { QLogEI } from '../../src/gp/qlogei.js';
import { Rng } from '../../src/gp/rng.js';

/** Grid points of the unit square ordered by analytic LogEI, best first: where the tests look. */
function byLogEI(gp: GaussianProcess, best: number): { x: Float64Array; v: number }[] {
  const out: { x: Float64Array; v: number }[] = [];
  for (let i = 0; i <= 40; i++) for (let j = 0; j <= 40; j++) {
    const x = Float64Array.of(i / 40, j / 40);
    const p = gp.predict(x);
    out.push({ x, v: logEI(p.mean, p.variance, best).value });
  }
  return out.sort((a, b) => b.v - a.v);
}

function model(): GaussianProcess {
  const rng = new Rng(21);
  const n = 10;
  const rows = Array.from({ length: n }, () => [rng.uniform(), rng.uniform()]);
  const data: GpData = {
    X: Float64Array.from(rows.flat()), y: Float64Array.from(rows.map((r) => Math.sin(5 * r[0]!) - r[1]!)), n, d: 2, categorical: new Uint8Array(2),
  };
  return GaussianProcess.create(data, Float64Array.from([Math.log(0.3), Math.log(0.4), 0, Math.log(1e-4)]));
}

test('normQuantile inverts normCdf to ~1e-13 relative (Phi\'s own accuracy), deep into both tails', () => {
  for (const p of [1e-300, 1e-20, 1e-8, 0.001, 0.02425, 0.1, 0.5, 0.77, 0.975, 0.999]) {
    const z = normQuantile(p);
    assert.ok(Math.abs(normCdf(z) / p - 1) < 1e-12, `p ${p}: Phi(${z}) = ${normCdf(z)}`);
  }
  assert.equal(normQuantile(0.5), 0);
  assert.ok(Number.isNaN(normQuantile(1.5)));
});

test('qLogEI equals log E[max(0, best - min(y_fixed, y_x))] estimated by plain Monte Carlo on the joint posterior', () => {
  const gp = model();
  const fixed = [Float64Array.of(0.3, 0.3), Float64Array.of(0.8, 0.6)];
  const best = Math.min(...Array.from(gp.y));
  const q = new QLogEI(gp, fixed, best, { seed: 5, samples: 4096, tau: 1e-6 });
  const rng = new Rng(9);
  // Where improvement is not vanishingly rare (log EI > -6), so both estimates rest on many improving samples.
  const grid = byLogEI(gp, best).filter((p) => p.v > -6);
  for (const x of [grid[0]!.x, grid[Math.floor(grid.length / 2)]!.x, grid[grid.length - 1]!.x]) {
    // Joint posterior of (fixed..., x) built independently: K** - K*X K^-1 KX* with mathjs.
    const pts = [...fixed, x];
    const Xrows = Array.from({ length: gp.n }, (_, i) => [gp.X[2 * i]!, gp.X[2 * i + 1]!]);
    const k = (a: ArrayLike<number>, b: ArrayLike<number>) => gp.kernelPair(a, b).value;
    const K = Xrows.map((a, i) => Xrows.map((b, j) => k(a, b) + (i === j ? gp.noise + gp.jitter : 0)));
    const Ks = pts.map((p) => Xrows.map((r) => k(p, r)));
    const Kinv = math.inv(K) as number[][];
    const mean = Ks.map((row) => math.dot(row, math.multiply(Kinv, Array.from(gp.y)) as number[]) as number);
    const cov = pts.map((a, i) => pts.map((b, j) => k(a, b) - (math.dot(Ks[i]!, math.multiply(Kinv, Ks[j]!) as number[]) as number) + (i === j ? 1e-12 : 0)));
    // Cholesky by hand (3 x 3) to sample.
    const L = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
    for (let i = 0; i < 3; i++) for (let j = 0; j <= i; j++) {
      let s = cov[i]![j]!;
      for (let t = 0; t < j; t++) s -= L[i]![t]! * L[j]![t]!;
      L[i]![j] = i === j ? Math.sqrt(Math.max(s, 1e-18)) : s / L[j]![j]!;
    }
    let sum = 0;
    const N = 200000;
    for (let s = 0; s < N; s++) {
      const z = [rng.normal(), rng.normal(), rng.normal()];
      let m = Infinity;
      for (let i = 0; i < 3; i++) m = Math.min(m, mean[i]! + L[i]!.reduce((a, l, t) => a + l * z[t]!, 0));
      sum += Math.max(0, best - m);
    }
    const reference = Math.log(sum / N);
    const got = q.score(x, false).value;
    assert.ok(Math.abs(got - reference) < 0.05, `x = ${Array.from(x)}: qLogEI ${got}, Monte Carlo ${reference}`);
  }
});

test('with nothing fixed, qLogEI approaches the analytic LogEI', () => {
  const gp = model();
  const best = Math.min(...Array.from(gp.y));
  const q = new QLogEI(gp, [], best, { seed: 2, samples: 4096, tau: 1e-6 });
  const grid = byLogEI(gp, best).filter((p) => p.v > -6);
  for (const x of [grid[0]!.x, grid[grid.length - 1]!.x]) {
    const p = gp.predict(x);
    const exact = logEI(p.mean, p.variance, best).value;
    assert.ok(Math.abs(q.score(x, false).value - exact) < 0.03, `${q.score(x, false).value} vs analytic ${exact}`);
  }
});

test('the gradient matches central finite differences', () => {
  const gp = model();
  const fixed = [Float64Array.of(0.3, 0.3), Float64Array.of(0.8, 0.6), Float64Array.of(0.55, 0.2)];
  const best = Math.min(...Array.from(gp.y));
  const q = new QLogEI(gp, fixed, best, { seed: 7 });
  for (const x of [Float64Array.of(0.45, 0.7), Float64Array.of(0.33, 0.31), Float64Array.of(0.9, 0.1)]) {
    const g = q.score(x, true).grad!;
    for (let j = 0; j < 2; j++) {
      const h = 1e-6;
      const xp = Float64Array.from(x);
      const xm = Float64Array.from(x);
      xp[j] += h;
      xm[j] -= h;
      const fd = (q.score(xp, false).value - q.score(xm, false).value) / (2 * h);
      assert.ok(Math.abs(g[j]! - fd) < 1e-4 * Math.max(1, Math.abs(fd)), `x ${Array.from(x)} dim ${j}: analytic ${g[j]}, finite difference ${fd}`);
    }
  }
});

test('next to a pending point a candidate adds little to the batch; far from it, about its own EI (the batch spreads out)', () => {
  const gp = model();
  const best = Math.min(...Array.from(gp.y));
  const grid = byLogEI(gp, best);
  const F = grid[0]!.x;
  const near = Float64Array.of(F[0]! + 0.01, F[1]!);
  // The best grid point at least 0.5 away from F, where its posterior barely correlates with F's.
  const far = grid.find((p) => Math.hypot(p.x[0]! - F[0]!, p.x[1]! - F[1]!) > 0.5)!.x;
  const opts = { seed: 3, samples: 4096, tau: 1e-6 };
  const alone = new QLogEI(gp, [], best, opts);
  const withF = new QLogEI(gp, [F], best, opts);
  const eiF = Math.exp(alone.score(F, false).value);
  const gain = (x: Float64Array) => Math.exp(withF.score(x, false).value) - eiF;
  const eiNear = Math.exp(alone.score(near, false).value);
  const eiFar = Math.exp(alone.score(far, false).value);
  assert.ok(gain(near) < 0.3 * eiNear, `near F: adds ${gain(near)} to the batch, alone worth ${eiNear}`);
  assert.ok(Math.abs(gain(far) - eiFar) < 0.25 * eiFar, `far from F: adds ${gain(far)}, alone worth ${eiFar}`);
  assert.ok(withF.score(far, false).value > withF.score(near, false).value, 'with F pending the far point must be preferred');
});
