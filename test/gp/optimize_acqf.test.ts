// The mixed-space acquisition search: finds known maxima, stays feasible (grid levels, choices, the box), and never returns an excluded point.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { optimizeAcquisition, type DimSpec, type Scorer } from '../../src/gp/optimize_acqf.js';
import { Rng } from '../../src/gp/rng.js';

const grid = (levels: number) => Float64Array.from({ length: levels }, (_, i) => (i + 0.5) / levels);
const DIMS: DimSpec[] = [{ kind: 'continuous' }, { kind: 'continuous' }, { kind: 'grid', grid: grid(11) }, { kind: 'grid', grid: grid(40) }, { kind: 'categorical', choices: 4 }];

/** A smooth peak at (0.713, 0.281) on the continuous dims, level 7 of 11 and 29 of 40 on the grids, choice 2; with its gradient. */
const score: Scorer = (x, withGrad) => {
  const c = [0.713, 0.281, grid(11)[7]!, grid(40)[29]!];
  let v = x[4] === 2 ? 0 : -1;
  const g = new Float64Array(5);
  for (let j = 0; j < 4; j++) {
    v -= 3 * (x[j]! - c[j]!) ** 2;
    g[j] = -6 * (x[j]! - c[j]!);
  }
  return withGrad ? { value: v, grad: g } : { value: v };
};

function feasible(x: Float64Array): boolean {
  return DIMS.every((d, j) => (d.kind === 'continuous' ? x[j]! >= 0 && x[j]! <= 1 : d.kind === 'grid' ? d.grid!.includes(x[j]!) : Number.isInteger(x[j]) && x[j]! >= 0 && x[j]! < d.choices!));
}

test('finds the maximum of a mixed function: continuous to 1e-4, the right grid levels and choice', () => {
  const r = optimizeAcquisition(score, DIMS, new Rng(1))!;
  assert.ok(feasible(r.x), Array.from(r.x).join());
  assert.ok(Math.abs(r.x[0]! - 0.713) < 1e-4 && Math.abs(r.x[1]! - 0.281) < 1e-4, Array.from(r.x).join());
  assert.equal(r.x[2], grid(11)[7]);
  assert.equal(r.x[3], grid(40)[29]);
  assert.equal(r.x[4], 2);
});

test('a box restricts continuous and grid dims (the best point inside it, on its edge here); categoricals stay free', () => {
  const box = { lower: Float64Array.from([0, 0.5, 0, 0, 0]), upper: Float64Array.from([0.5, 1, 0.3, 1, 1]) };
  const r = optimizeAcquisition(score, DIMS, new Rng(2), { box })!;
  assert.ok(feasible(r.x));
  assert.ok(Math.abs(r.x[0]! - 0.5) < 1e-6 && Math.abs(r.x[1]! - 0.5) < 1e-6, Array.from(r.x).join());
  assert.equal(r.x[2], grid(11)[2]); // the highest level <= 0.3
  assert.equal(r.x[4], 2);
});

test('excluded points are never returned, even the true maximum', () => {
  const first = optimizeAcquisition(score, DIMS, new Rng(3))!;
  const key = (x: Float64Array) => Array.from(x).join();
  const banned = new Set([key(first.x)]);
  const onlyDiscrete: DimSpec[] = [{ kind: 'grid', grid: grid(3) }, { kind: 'categorical', choices: 2 }];
  const s: Scorer = (x) => ({ value: -((x[0]! - grid(3)[1]!) ** 2) - x[1]! });
  const all = new Set<string>();
  for (let i = 0; i < 6; i++) {
    const r = optimizeAcquisition(s, onlyDiscrete, new Rng(10 + i), { exclude: (x) => all.has(key(x)) });
    assert.ok(r, `only ${all.size} of 6 points used, yet nothing was returned`);
    assert.ok(!all.has(key(r.x)));
    all.add(key(r.x));
  }
  assert.equal(optimizeAcquisition(s, onlyDiscrete, new Rng(20), { exclude: (x) => all.has(key(x)) }), null, 'all 6 points excluded');
  const r = optimizeAcquisition(score, DIMS, new Rng(3), { exclude: (x) => banned.has(key(x)) })!;
  assert.notEqual(key(r.x), key(first.x));
});

test('a seed point starts a local search: a narrow peak the Sobol screen misses is found from a seed beside it', () => {
  const peak = [0.3141, 0.5926];
  const narrow: Scorer = (x, withGrad) => {
    const r2 = (x[0]! - peak[0]!) ** 2 + (x[1]! - peak[1]!) ** 2;
    const v = Math.exp(-r2 / 1e-6);
    return withGrad ? { value: v, grad: Float64Array.from([0, 1], (j) => (-2 * (x[j]! - peak[j]!) * v) / 1e-6) } : { value: v };
  };
  const dims: DimSpec[] = [{ kind: 'continuous' }, { kind: 'continuous' }];
  const r = optimizeAcquisition(narrow, dims, new Rng(4), { candidates: 256, seeds: [Float64Array.of(0.3145, 0.5921)] })!;
  assert.ok(r.value > 0.999, `value ${r.value} at ${Array.from(r.x)}`);
});
