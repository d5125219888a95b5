import { test } from 'node:test';
import assert from 'node:assert/strict';
import { studentTCdf, studentTQuantile, tInterval } from '../../../src/study/stats/t.js';

test('t CDF matches the closed forms for 1 (Cauchy) and 2 degrees of freedom', () => {
  for (const t of [-5, -1.3, -0.2, 0, 0.4, 1, 2.5, 10]) {
    assert.ok(Math.abs(studentTCdf(t, 1) - (0.5 + Math.atan(t) / Math.PI)) < 1e-12, `df=1 at t=${t}`);
    assert.ok(Math.abs(studentTCdf(t, 2) - (0.5 + t / (2 * Math.sqrt(2 + t * t)))) < 1e-12, `df=2 at t=${t}`);
  }
});

test('t 0.975 quantiles match the printed table', () => {
  // Standard table values (4 decimals); the large-df one approaches the normal 1.9600.
  const table: [number, number][] = [[1, 12.7062], [2, 4.3027], [3, 3.1824], [4, 2.7764], [9, 2.2622], [29, 2.0452], [1000, 1.9623]];
  for (const [df, q] of table) assert.ok(Math.abs(studentTQuantile(0.975, df) - q) < 6e-5, `df=${df}: got ${studentTQuantile(0.975, df)}, table ${q}`);
});

test('tInterval: the 95% interval of a worked example', () => {
  // values 0.90, 0.92, 0.94: mean 0.92, s = 0.02, half = 4.3027 * 0.02 / sqrt(3) = 0.049683
  const ci = tInterval([0.9, 0.92, 0.94])!;
  assert.ok(Math.abs(ci[0] - (0.92 - 0.0496832)) < 1e-6 && Math.abs(ci[1] - (0.92 + 0.0496832)) < 1e-6, JSON.stringify(ci));
});

test('tInterval: one value has no interval (null), not a zero-width one', () => {
  assert.equal(tInterval([0.9]), null);
  assert.equal(tInterval([]), null);
});
