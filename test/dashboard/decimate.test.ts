// LTTB keeps a curve's shape (endpoints, spikes) while bounding the number of points drawn.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lttb } from '../../dashboard/data/decimate.js';

const series = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => ({ x: i, y: f(i) }));

test('short series come back unchanged (as a copy)', () => {
  const s = series(50, (i) => i * i);
  const out = lttb(s, 200);
  assert.deepEqual(out, s);
  assert.notEqual(out, s);
});

test('long series are cut to exactly the threshold, keeping both ends and x order', () => {
  const s = series(10_000, (i) => Math.sin(i / 100));
  const out = lttb(s, 200);
  assert.equal(out.length, 200);
  assert.deepEqual(out[0], s[0]);
  assert.deepEqual(out[199], s[9999]);
  for (let i = 1; i < out.length; i++) assert.ok(out[i].x > out[i - 1].x, `x must increase at ${i}`);
});

test('an isolated spike survives decimation (min/max bucketing by area, not averaging)', () => {
  const s = series(5000, (i) => (i === 3217 ? 10 : 0));
  const out = lttb(s, 100);
  assert.ok(out.some((p) => p.x === 3217 && p.y === 10), 'the spike at x=3217 was dropped');
});

test('the maximum deviation of a smooth curve after decimation is small', () => {
  const s = series(20_000, (i) => Math.exp(-i / 4000));
  const out = lttb(s, 200);
  // Linear interpolation of the kept points against the original: a faithful reduction stays within 1% here.
  let k = 0;
  let worst = 0;
  for (const p of s) {
    while (k < out.length - 2 && out[k + 1].x < p.x) k++;
    const a = out[k];
    const b = out[k + 1];
    const y = a.y + ((b.y - a.y) * (p.x - a.x)) / (b.x - a.x);
    worst = Math.max(worst, Math.abs(y - p.y));
  }
  assert.ok(worst < 0.01, `worst interpolation error ${worst}`);
});

test('a threshold below 3 is rejected with the argument named', () => {
  assert.throws(() => lttb(series(10, (i) => i), 2), /threshold must be an integer >= 3/);
});
