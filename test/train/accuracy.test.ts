// accuracy() against the engine's independent evaluate(), and train-mode scoring leaves the moving statistics alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { loadDataset } from '../../src/data/index.js';
import { buildModel, createTrainStep, evaluate, initBackend, renormLayers } from '../../src/engine/index.js';
import { accuracy } from '../../src/train/accuracy.js';
import { imageTensor, labelTensor } from '../../src/train/batches.js';

test('matches the engine evaluate() in both modes and does not move the moving statistics', async () => {
  await initBackend('auto');
  const ds = await loadDataset('mnist');
  const model = buildModel({ type: 'mlp', hidden: [32] }, ds, 10);
  const step = createTrainStep(model, { optimizer: 'adam', learningRate: 0.01 });
  const trainIdx = Int32Array.from({ length: 64 }, (_, i) => i);
  for (let s = 0; s < 8; s++) {
    const idx = trainIdx.subarray(s * 8, s * 8 + 8);
    const x = imageTensor(ds, ds.train, idx);
    const y = labelTensor(ds.train, idx);
    step.step(x, y);
    tf.dispose([x, y]);
  }
  const idx = Int32Array.from({ length: 100 }, (_, i) => i);
  const x = imageTensor(ds, ds.test, idx);
  const y = labelTensor(ds.test, idx);
  const moving = () => renormLayers(model).map((l) => Array.from(l.movingMean.read().dataSync()));
  const before = moving();
  for (const training of [false, true]) {
    const ours = accuracy(model, ds, ds.test, idx, 8, training);
    assert.equal(ours, evaluate(model, x, y, { batchSize: 8, training }), `training=${training}`);
    assert.ok(ours > 0.2, `8 steps already beat chance (${ours})`);
  }
  assert.deepEqual(moving(), before, 'train-mode scoring must not update moving statistics');
  tf.dispose([x, y]);
  step.dispose();
  model.dispose();
});
