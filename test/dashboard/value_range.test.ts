// A chart of trial values spans the bulk when a few lie far outside it (the shared IQR fence of src/shared/bulk.ts), and says which are off the scale.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { offScaleNote, shortValue, valueRange } from '../../dashboard/data/value_range.js';
import { FENCE, TRIGGER } from '../../src/shared/bulk.js';
import { Tails } from '../../src/gp/tails.js';

const near1 = [0.92, 1.04, 0.98, 1.11, 0.87, 1.0, 0.95, 1.07];

test('one diverged 1e30 among values near 1: the range is the bulk plus a margin, and 1e30 is off the scale', () => {
  const r = valueRange([...near1, 1e30]);
  assert.ok(r, 'a value 1e30 away from a bulk of IQR 0.1 must be judged far');
  assert.ok(r.min <= 0.87 && r.min > 0.8, `min ${r.min} should sit just below the smallest ordinary value 0.87`);
  assert.ok(r.max >= 1.11 && r.max < 1.2, `max ${r.max} should sit just above the largest ordinary value 1.11`);
  assert.deepEqual(r.off, [1e30]);
  // Both sides, and Number.MAX_VALUE.
  const both = valueRange([...near1, -1e30, Number.MAX_VALUE])!;
  assert.deepEqual(both.off.sort((a, b) => a - b), [-1e30, Number.MAX_VALUE]);
  assert.ok(both.min > 0.8 && both.max < 1.2, JSON.stringify(both));
});

test('values within the fence, too few values or all equal: null, the chart scales itself', () => {
  assert.equal(valueRange(near1), null);
  assert.equal(valueRange([1, 2, 1e30]), null, 'three values have no bulk to speak of');
  assert.equal(valueRange([5, 5, 5, 5, 5]), null);
  // 0..9 and one more: q3 = 7.5, IQR 5 (linear quantiles of 11 values); the fence is FENCE IQRs past q3.
  const ten = Array.from({ length: 10 }, (_, i) => i);
  assert.equal(valueRange([...ten, 7.5 + 0.99 * FENCE * 5]), null, 'just inside the fence');
  assert.deepEqual(valueRange([...ten, 7.5 + 1.01 * FENCE * 5])?.off, [7.5 + 1.01 * FENCE * 5], 'just past it');
  assert.equal(valueRange([...ten, 7.5 + 1.01 * FENCE * 5], [], TRIGGER), null, 'a learning curve uses the wider TRIGGER');
});

test('the fence is the GP tail compression\'s: a value the GP compresses is off the chart too (one rule, two uses)', () => {
  const y = [0, 1, 2, 3, 4, 5, 6, 7, 8, 1e30, -1e20];
  const t = Tails.fit(y)!;
  const r = valueRange(y)!;
  assert.deepEqual(r.off.sort((a, b) => a - b), y.filter((v) => v > t.upper || v < t.lower).sort((a, b) => a - b));
});

test('lines drawn with the values (baselines) widen the range only when they are not far out themselves', () => {
  assert.ok(valueRange([...near1, 1e30], [1.3])!.max >= 1.3);
  assert.ok(valueRange([...near1, 1e30], [1e20])!.max < 1.2);
});

test('the note names the count and the largest values, briefly', () => {
  assert.equal(offScaleNote([1e30]), '1 value off the scale: 1e30');
  assert.equal(offScaleNote([]), null);
  assert.equal(offScaleNote([5e6, -1e30, Number.MAX_VALUE, 1e9]), '4 values off the scale: 1.8e308, -1e30, 1e9, …');
  assert.equal(shortValue(123456.7), '123000');
});
