// The permutation test behind importance's "no signal": calibrated on pure noise, powerful on a plain effect, deterministic, bounded in size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GpData } from '../../src/gp/gp.js';
import { Rng } from '../../src/gp/rng.js';
import { signalTest } from '../../src/gp/signal_test.js';

function data(n: number, d: number, f: (x: number[], rng: Rng) => number, seed: number): GpData {
  const rng = new Rng(seed, 0xda7a);
  const rows = Array.from({ length: n }, () => Array.from({ length: d }, () => rng.uniform()));
  const y = rows.map((x) => f(x, rng));
  const m = y.reduce((a, b) => a + b, 0) / n;
  const s = Math.sqrt(y.reduce((a, b) => a + (b - m) ** 2, 0) / n);
  return { X: Float64Array.from(rows.flat()), y: Float64Array.from(y, (v) => (v - m) / s), n, d, categorical: new Uint8Array(d) };
}

test('on pure noise p is close to uniform: p <= 0.1 about one time in ten, never as a rule', () => {
  const ps: number[] = [];
  for (let seed = 1001; seed <= 1100; seed++) ps.push(signalTest(data(16, 3, (_x, rng) => rng.normal(), seed), { seed }).p);
  const small = ps.filter((p) => p <= 0.1).length;
  const mean = ps.reduce((a, b) => a + b, 0) / ps.length;
  // Expected 10 of 100 (binomial sd 3); 20 would be 3.3 sd out. A test that compared the wrong way round, or a
  // statistic that always favoured the observed order, would put most of the 100 here.
  assert.ok(small <= 20, `${small} of 100 pure-noise sets called signal at p <= 0.1: ${ps.join(' ')}`);
  assert.ok(mean > 0.4 && mean < 0.6, `mean p ${mean.toFixed(3)} on pure noise, expected about 0.5`);
});

test('a plain effect beats every shuffle (p = 1/20), on every seed', () => {
  for (let seed = 1; seed <= 10; seed++) {
    const r = signalTest(data(16, 3, (x) => Math.sin(4 * x[0]!) + x[1]!, seed), { seed });
    assert.equal(r.p, 1 / 20, `seed ${seed}: p ${r.p}`);
    assert.equal(r.asGood, 0);
    assert.equal(r.permutations, 19);
    assert.equal(r.rows, 16);
  }
});

test('the same data and seed give the same p; more points than maxRows are sampled down', () => {
  const dat = data(30, 2, (x, rng) => x[0]! + 0.8 * rng.normal(), 3);
  assert.deepEqual(signalTest(dat, { seed: 5 }), signalTest(dat, { seed: 5 }));
  const big = data(150, 2, (x) => Math.cos(3 * x[1]!), 4);
  const r = signalTest(big, { seed: 1, maxRows: 40, permutations: 9 });
  assert.equal(r.rows, 40);
  assert.equal(r.permutations, 9);
  assert.equal(r.p, 1 / 10, 'a noiseless effect on a sample of the points still beats every shuffle');
});
