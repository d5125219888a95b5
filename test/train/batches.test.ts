// Train-mode evaluation order: batches composed like the training batches, every class represented.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trainModeOrder } from '../../src/train/batches.js';

const labels = Uint8Array.from({ length: 400 }, (_, i) => i % 10);
const indices = Int32Array.from({ length: 400 }, (_, i) => i);

test('single-class batches for classes k=1, and a sorted stream gives every class one run', () => {
  const k1 = trainModeOrder(indices, labels, 10, { type: 'classes', k: 1 }, 4, 1);
  assert.equal(k1.length, 400);
  for (let b = 0; b < 100; b++) assert.equal(new Set(Array.from(k1.subarray(b * 4, b * 4 + 4), (i) => labels[i])).size, 1);
  const sorted = Array.from(trainModeOrder(indices, labels, 10, { type: 'sorted', runLength: 5000 }, 4, 1), (i) => labels[i]);
  assert.deepEqual(sorted, Array.from({ length: 400 }, (_, j) => Math.floor(j / 40)));
  const iid = trainModeOrder(indices, labels, 10, { type: 'iid' }, 4, 1);
  assert.equal(new Set(iid).size, 400, 'iid covers each validation image once');
});
