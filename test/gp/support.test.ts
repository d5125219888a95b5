// The evidence a GP loses without each dimension: large for the one that carries the effect, about nothing for an inert one or for a copy of another, never negative.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitTheta, sampleRows } from '../../src/gp/fit.js';
import { logEvidence, type GpData } from '../../src/gp/gp.js';
import { Rng } from '../../src/gp/rng.js';
import { dimensionSupport, dropDimension } from '../../src/gp/support.js';

function data(n: number, d: number, f: (x: number[], rng: Rng) => number, seed: number, shape: (x: number[]) => number[] = (x) => x): GpData {
  const rng = new Rng(seed, 0xda7a);
  const rows = Array.from({ length: n }, () => shape(Array.from({ length: d }, () => rng.uniform())));
  const y = rows.map((x) => f(x, rng));
  const m = y.reduce((a, b) => a + b, 0) / n;
  const s = Math.sqrt(y.reduce((a, b) => a + (b - m) ** 2, 0) / n);
  return { X: Float64Array.from(rows.flat()), y: Float64Array.from(y, (v) => (v - m) / s), n, d: rows[0]!.length, categorical: new Uint8Array(rows[0]!.length) };
}

const fitted = (dat: GpData, seed: number) => fitTheta(dat, { rng: new Rng(seed, 1), starts: 3 });

test('the dimension that carries the effect costs many nats to drop; the inert ones under 1, on every seed', () => {
  for (let seed = 1; seed <= 5; seed++) {
    const dat = data(30, 3, (x, rng) => Math.sin(5 * x[0]!) + 0.05 * rng.normal(), seed);
    const [active, inert1, inert2] = dimensionSupport(dat, fitted(dat, seed), [0, 1, 2], { seed });
    assert.ok(active! > 10, `seed ${seed}: dropping the active dimension lost only ${active} nats`);
    assert.ok(inert1! < 1 && inert2! < 1, `seed ${seed}: dropping an inert dimension lost ${inert1} and ${inert2} nats`);
  }
});

test('a dimension that copies another is not needed, nor is the original: either one alone explains the points', () => {
  // Column 1 equals column 0, so the points cannot say which of the two the effect belongs to. A check that
  // compared each dimension with nothing (or with the prior) would call both needed.
  for (let seed = 1; seed <= 3; seed++) {
    const dat = data(24, 2, (x) => Math.sin(5 * x[0]!), seed, (x) => [x[0]!, x[0]!, x[1]!]);
    const theta = fitted(dat, seed);
    const [first, copy, inert] = dimensionSupport(dat, theta, [0, 1, 2], { seed });
    assert.ok(first! < 1 && copy! < 1 && inert! < 1, `seed ${seed}: ${first}, ${copy}, ${inert} nats; each should be about 0`);
    // The two together are needed, though: with both gone only the inert column is left.
    const onlyInert = dropDimension(dropDimension(dat, 1), 0);
    assert.ok(logEvidence(dat, theta) - logEvidence(onlyInert, fitted(onlyInert, seed)) > 10, `seed ${seed}: the effect itself should be worth many nats`);
  }
});

test('never negative, Infinity for the only dimension, the same for the same seed, sampled down past maxRows', () => {
  const noise = data(20, 3, (_x, rng) => rng.normal(), 7);
  for (const v of dimensionSupport(noise, fitted(noise, 7), [0, 1, 2], { seed: 7 })) assert.ok(v >= 0, `a loss of ${v} nats`);
  const one = data(10, 1, (x) => x[0]!, 3);
  assert.deepEqual(dimensionSupport(one, fitted(one, 3), [0], { seed: 3 }), [Infinity]);
  const big = data(60, 2, (x, rng) => x[0]! + 0.3 * rng.normal(), 4);
  const theta = fitted(big, 4);
  assert.deepEqual(dimensionSupport(big, theta, [0, 1], { seed: 2, maxRows: 20 }), dimensionSupport(big, theta, [0, 1], { seed: 2, maxRows: 20 }));
  assert.notDeepEqual(dimensionSupport(big, theta, [0, 1], { seed: 2, maxRows: 20 }), dimensionSupport(big, theta, [0, 1], { seed: 2 }));
});

test('dropDimension removes one column and its categorical flag, keeping the rows and values', () => {
  const dat: GpData = { X: Float64Array.from([1, 2, 3, 4, 5, 6]), y: Float64Array.from([7, 8]), n: 2, d: 3, categorical: Uint8Array.from([0, 1, 0]) };
  const out = dropDimension(dat, 1);
  assert.deepEqual([...out.X], [1, 3, 4, 6]);
  assert.deepEqual([...out.categorical], [0, 0]);
  assert.equal(out.d, 2);
  assert.equal(out.y, dat.y);
});

/** A converged study's history: `spread` points over the box, then the rest crowded within ±0.02 of the optimum. */
function converged(n: number, spread: number, seed: number): GpData {
  return data(n, 3, (x, rng) => -((x[0]! - 0.3) ** 2) + 0.01 * rng.normal(), seed, (x) => (x[2]! * n < n - spread ? [0.3 + 0.04 * (x[0]! - 0.5), x[1]!, x[2]!] : x));
}

test('past maxRows the rows kept are spread over the space, chosen by the inputs alone: a converged history keeps its early spread points', () => {
  const dat = converged(300, 40, 3);
  const wide = (x: number) => Math.abs(x - 0.3) > 0.021;
  const spreadRows = [...Array(dat.n).keys()].filter((i) => wide(dat.X[i * 3]!));
  assert.ok(spreadRows.length >= 30, `the fixture has spread points: ${spreadRows.length}`);
  const kept = sampleRows(dat, 100, new Rng(1, 2));
  assert.equal(kept.n, 100);
  let keptWide = 0;
  for (let r = 0; r < kept.n; r++) if (wide(kept.X[r * 3]!)) keptWide++;
  // A uniform sample of 100 of 300 keeps about a third of them (the crowded rows are spread in the other two dimensions).
  assert.ok(keptWide >= 0.7 * spreadRows.length, `kept ${keptWide} of the ${spreadRows.length} spread points`);
  const shuffledValues = { ...dat, y: Float64Array.from(dat.y).reverse() };
  assert.deepEqual([...sampleRows(shuffledValues, 100, new Rng(1, 2)).X], [...kept.X], 'the values play no part');
  assert.equal(sampleRows(dat, 300, new Rng(1, 2)), dat, 'no more rows than maxRows: the data as is');
});

test('on a converged history of 300 trials the dimension that carries the effect keeps its support for every seed; the inert ones stay under 1 nat', () => {
  // With a uniform sample of 100 the active dimension's support swung from 0.05 to 3.9 nats with the sample's seed.
  for (let seed = 1; seed <= 4; seed++) {
    const dat = converged(300, 40, seed);
    const theta = fitted(dat, seed);
    const [active, inert] = dimensionSupport(dat, theta, [0, 1], { seed });
    assert.ok(active! > 5, `seed ${seed}: the active dimension's support is ${active} nats`);
    assert.ok(inert! < 1, `seed ${seed}: the inert dimension's support is ${inert} nats`);
  }
});
