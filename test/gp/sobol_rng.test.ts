// Sobol points keep their net structure after scrambling; the seeded generator is reproducible.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { directions, sobolPoints } from '../../src/gp/sobol.js';
import { Rng } from '../../src/gp/rng.js';

test('every 1-D projection of the first 2^m points has one point per interval of width 2^-m', () => {
  const d = 8;
  const m = 7;
  const N = 2 ** m;
  const pts = sobolPoints(d, 0, N, 42);
  for (let j = 0; j < d; j++) {
    const seen = new Set<number>();
    for (let i = 0; i < N; i++) seen.add(Math.floor(pts[i * d + j]! * N));
    assert.equal(seen.size, N, `dimension ${j} is not stratified`);
  }
});

test('dims 0/1 of 256 points fill every elementary box (a (0, 8, 2)-net survives the digital shift)', () => {
  const d = 6;
  const N = 256;
  const pts = sobolPoints(d, 0, N, 7);
  // Dims 0 and 1 of Sobol form a (0, m, 2)-net: boxes 2^-a x 2^-(8-a) each hold exactly one point.
  for (let a = 0; a <= 8; a++) {
    const cells = new Set<string>();
    for (let i = 0; i < N; i++) cells.add(`${Math.floor(pts[i * d]! * 2 ** a)},${Math.floor(pts[i * d + 1]! * 2 ** (8 - a))}`);
    assert.equal(cells.size, N, `elementary boxes 2^-${a} x 2^-${8 - a} are not all filled`);
  }
});

test('same seed gives the same points; another seed another shift', () => {
  assert.deepEqual(sobolPoints(3, 5, 10, 1), sobolPoints(3, 5, 10, 1));
  assert.notDeepEqual(sobolPoints(3, 5, 10, 1), sobolPoints(3, 5, 10, 2));
  // A contiguous run equals the matching slice of a longer run.
  assert.deepEqual(sobolPoints(3, 5, 10, 1), sobolPoints(3, 0, 15, 1).slice(15, 45));
});

test('Rng is reproducible per (seed, stream) and uniform draws lie in [0, 1) with mean ~1/2', () => {
  const a = new Rng(5, 1);
  const b = new Rng(5, 1);
  const c = new Rng(5, 2);
  const xs = Array.from({ length: 2000 }, () => a.uniform());
  assert.deepEqual(xs.slice(0, 5), Array.from({ length: 5 }, () => b.uniform()));
  assert.notEqual(xs[0], c.uniform());
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  // Standard error of the mean is 0.29 / sqrt(2000) = 0.0065; 5 sigma bound.
  assert.ok(Math.abs(mean - 0.5) < 0.033, `mean ${mean}`);
});

test('unscrambled Gray-code points match the published Joe-Kuo sequence (as scipy.stats.qmc.Sobol prints it)', () => {
  const expected = [
    [0, 0, 0, 0], [0.5, 0.5, 0.5, 0.5], [0.75, 0.25, 0.25, 0.25], [0.25, 0.75, 0.75, 0.75],
    [0.375, 0.375, 0.625, 0.875], [0.875, 0.875, 0.125, 0.375], [0.625, 0.125, 0.875, 0.625], [0.125, 0.625, 0.375, 0.125],
  ];
  const V = [0, 1, 2, 3].map(directions);
  expected.forEach((row, n) => {
    const g = n ^ (n >> 1);
    const got = V.map((v) => {
      let x = 0;
      for (let k = 0; k < 32; k++) if ((g >> k) & 1) x ^= v[k]!;
      return (x >>> 0) / 4294967296;
    });
    assert.deepEqual(got, row, `point ${n}`);
  });
});
