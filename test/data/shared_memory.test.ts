// A Dataset posted to a worker thread shares memory with the parent: no per-worker copy of the images.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { attachDataset, loadDataset } from '../../src/data/index.js';
import { DataError } from '../../src/errors.js';
import { tempDir, writeTinyDataset } from './idx_fixture.js';

const dataUrl = new URL('../../src/data/index.js', import.meta.url).href;

// The worker attaches the dataset as production workers do, then writes into it; the parent must see the writes.
const workerCode = `
const { parentPort } = require('node:worker_threads');
parentPort.once('message', async (msg) => {
  const { attachDataset } = await import(${JSON.stringify(dataUrl)});
  const ds = attachDataset(msg.dataset);
  ds.train.images[5] = 201;
  ds.test.labels[0] = 2;
  parentPort.postMessage({ shared: ds.train.images.buffer instanceof SharedArrayBuffer, first: ds.train.images[12 * 3] });
});`;

test('views in a worker_thread point at the parent memory (a worker write is visible in the parent)', async () => {
  const ds = await loadDataset(writeTinyDataset(tempDir()));
  assert.equal(ds.train.images[5], 0);
  const worker = new Worker(workerCode, { eval: true });
  try {
    const reply = await new Promise<{ shared: boolean; first: number }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.postMessage({ dataset: ds });
    });
    assert.equal(reply.shared, true, 'worker view must be on a SharedArrayBuffer');
    assert.equal(reply.first, 3, 'worker reads the same pixels');
    assert.equal(ds.train.images[5], 201, 'the write from the worker must be visible in the parent');
    assert.equal(ds.test.labels[0], 2);
  } finally {
    await worker.terminate();
  }
});

test('attachDataset refuses a dataset whose arrays were copied instead of shared', async () => {
  const ds = await loadDataset(writeTinyDataset(tempDir()));
  const copied = { ...ds, train: { ...ds.train, images: Uint8Array.from(ds.train.images) } };
  assert.throws(() => attachDataset(copied), (e: unknown) => e instanceof DataError && /SharedArrayBuffer/.test(e.message));
  assert.equal(attachDataset(ds), ds);
});
