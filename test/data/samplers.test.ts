// Splits and batch samplers: deterministic for a seed, disjoint splits, and the class composition each scenario promises.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSampler, splitTrainValidation, loadIdxDataset, type SamplerSpec } from '../../src/data/index.js';
import { tempDir, writeTinyDataset } from './idx_fixture.js';

// 10 classes, 50 images each, label = i % 10.
const labels = Uint8Array.from({ length: 500 }, (_, i) => i % 10);
const indices = Int32Array.from({ length: 500 }, (_, i) => i);
const input = (batchSize: number, seed = 1) => ({ indices, labels, numClasses: 10, batchSize, seed });
const draw = (spec: SamplerSpec, batchSize: number, n: number, seed = 1) => {
  const s = createSampler(spec, input(batchSize, seed));
  return Array.from({ length: n }, () => Array.from(s.next()));
};

test('validation split is fixed by splitSeed, disjoint from training, and trainSubset caps training', () => {
  const ds = loadIdxDataset(writeTinyDataset(tempDir(), { train: 100 }));
  const a = splitTrainValidation(ds, 20, 7);
  const b = splitTrainValidation(ds, 20, 7);
  assert.deepEqual(a, b);
  assert.equal(a.validation.length, 20);
  assert.equal(a.train.length, 80);
  assert.equal(new Set([...a.train, ...a.validation]).size, 100, 'train and validation partition the training images');
  assert.notDeepEqual(splitTrainValidation(ds, 20, 8).validation, a.validation, 'another split seed, another split');
  assert.deepEqual(splitTrainValidation(ds, 20, 7, 10).train, a.train.slice(0, 10));
  assert.throws(() => splitTrainValidation(ds, 100, 0), /leaves no training images/);
});

test('every sampler is deterministic for a seed and differs across seeds', () => {
  for (const spec of [{ type: 'iid' }, { type: 'classes', k: 2 }, { type: 'sorted', runLength: 8 }] as SamplerSpec[]) {
    assert.deepEqual(draw(spec, 4, 20), draw(spec, 4, 20), `${spec.type} repeats for a seed`);
    assert.notDeepEqual(draw(spec, 4, 20), draw(spec, 4, 20, 2), `${spec.type} changes with the seed`);
  }
});

test('iid sees every image exactly once per epoch, including with batches of 1', () => {
  const epoch = draw({ type: 'iid' }, 1, 500).flat();
  assert.equal(new Set(epoch).size, 500);
  const counts = new Array(10).fill(0);
  for (const b of draw({ type: 'iid' }, 4, 125)) for (const i of b) counts[labels[i]]++;
  assert.deepEqual(counts, new Array(10).fill(50));
});

test('classes draws each batch from exactly k classes, balanced, and uses every class over time', () => {
  for (const [k, batchSize] of [[1, 4], [2, 4], [3, 6], [1, 1]]) {
    const seen = new Set<number>();
    for (const batch of draw({ type: 'classes', k }, batchSize, 200)) {
      assert.equal(batch.length, batchSize);
      const cls = batch.map((i) => labels[i]);
      const distinct = new Set(cls);
      assert.equal(distinct.size, Math.min(k, batchSize), `k=${k}: batch classes ${cls}`);
      for (const c of distinct) assert.equal(cls.filter((x) => x === c).length, batchSize / Math.min(k, batchSize), 'balanced over the k classes');
      cls.forEach((c) => seen.add(c));
    }
    assert.equal(seen.size, 10, `k=${k} reaches every class`);
  }
});

test('sorted streams classes in order, in runs, cycling back to class 0', () => {
  const stream = draw({ type: 'sorted', runLength: 6 }, 4, 18).flat().map((i) => labels[i]);
  const expected = Array.from({ length: 72 }, (_, j) => Math.floor(j / 6) % 10);
  assert.deepEqual(stream, expected);
  // Default run = the whole class: 50 zeros, then 50 ones.
  const whole = draw({ type: 'sorted' }, 1, 100).flat().map((i) => labels[i]);
  assert.deepEqual(whole, [...new Array(50).fill(0), ...new Array(50).fill(1)]);
  assert.equal(new Set(draw({ type: 'sorted' }, 1, 50).flat()).size, 50, 'a run visits distinct images of its class');
});

test('samplers draw only from the indices they are given (the training split)', () => {
  const subset = Int32Array.from([3, 13, 23, 5, 15]);
  for (const spec of [{ type: 'iid' }, { type: 'classes', k: 2 }, { type: 'sorted' }] as SamplerSpec[]) {
    const s = createSampler(spec, { indices: subset, labels, numClasses: 10, batchSize: 2, seed: 3 });
    for (let i = 0; i < 20; i++) for (const x of s.next()) assert.ok(subset.includes(x), `${spec.type} drew ${x}`);
  }
});
