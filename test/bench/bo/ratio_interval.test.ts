// The median-ratio bootstrap against the exact resampling distribution (small n enumerated), its floor and its verdicts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { medianRatio, medianRatioInterval, standing } from '../../../src/bench/bo/ratio_interval.js';

function exactRatios(a: number[], b: number[]): number[] {
  const resamples = (v: number[]): number[] => {
    const out: number[] = [];
    const n = v.length;
    for (let code = 0; code < n ** n; code++) {
      const pick: number[] = [];
      for (let i = 0, c = code; i < n; i++, c = Math.floor(c / n)) pick.push(v[c % n]!);
      pick.sort((x, y) => x - y);
      out.push(n % 2 ? pick[(n - 1) / 2]! : (pick[n / 2 - 1]! + pick[n / 2]!) / 2);
    }
    return out;
  };
  const ma = resamples(a);
  const mb = resamples(b);
  return ma.flatMap((x) => mb.map((y) => x / y)).sort((x, y) => x - y);
}

/** Exact p-quantile of an equally weighted discrete distribution: the smallest value whose CDF reaches p. */
function exactQuantile(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

test('the interval matches the exact bootstrap distribution of median(a*)/median(b*), enumerated for n = 3 and 4', () => {
  for (const [a, b] of [[[1, 2, 7], [0.5, 3, 4]], [[2, 9, 10, 30], [1, 1.5, 6]]] as [number[], number[]][]) {
    const exact = exactRatios(a, b);
    const [lo, hi] = medianRatioInterval(a, b, { level: 0.8, resamples: 40_000 })!;
    // The Monte Carlo percentile sits between the exact quantiles one percentage point either side.
    assert.ok(lo >= exactQuantile(exact, 0.09) && lo <= exactQuantile(exact, 0.11), `lo ${lo}`);
    assert.ok(hi >= exactQuantile(exact, 0.89) && hi <= exactQuantile(exact, 0.91), `hi ${hi}`);
  }
});

test('separated samples give an interval around their ratio that excludes 1; identical ones straddle 1', () => {
  const b = [1, 1.1, 0.9, 1.05, 0.95, 1.02, 0.98, 1.01, 0.99, 1.03];
  const a = b.map((v) => 10 * v);
  const [lo, hi] = medianRatioInterval(a, b)!;
  assert.ok(lo > 8 && hi < 12.5 && lo <= medianRatio(a, b) && medianRatio(a, b) <= hi, `${lo} ${hi}`);
  const [lo2, hi2] = medianRatioInterval(b, [...b].reverse())!;
  assert.ok(lo2 < 1 && hi2 > 1);
});

test('the floor counts regrets below it as equal, and zero medians give 1 or Infinity', () => {
  assert.equal(medianRatio([1e-6, 2e-6, 3e-6], [1e-5, 1e-5, 1e-5], 1e-4), 1);
  assert.deepEqual(medianRatioInterval([1e-6, 2e-6, 3e-6], [1e-5, 2e-5, 3e-5], { floor: 1e-4 }), [1, 1]);
  assert.equal(medianRatio([0, 0, 0], [0, 0, 0]), 1);
  assert.equal(medianRatio([1, 1, 1], [0, 0, 0]), Infinity);
});

test('seeded: the same samples give the same interval; under two values there is none', () => {
  const a = [3, 1, 4, 1, 5, 9, 2, 6];
  const b = [2, 7, 1, 8, 2, 8];
  assert.deepEqual(medianRatioInterval(a, b), medianRatioInterval(a, b));
  assert.equal(medianRatioInterval([1], b), null);
});

test('standing: met at or under the target, missed only when the whole interval is above it', () => {
  assert.equal(standing(1.5, [0.5, 3], 1.5), 'met');
  assert.equal(standing(2, [1.6, 3], 1.5), 'missed');
  assert.equal(standing(2, [0.9, 3], 1.5), 'unresolved');
  assert.equal(standing(2, null, 1.5), 'unresolved');
});
