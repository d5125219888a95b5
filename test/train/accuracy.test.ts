// accuracy() against a plain batched model.apply over one image tensor, and train-mode scoring leaves the statistics alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { loadDataset } from '../../src/data/index.js';
import { buildModel, createTrainStep, initBackend, renormLayers, type ModelSpec } from '../../src/engine/index.js';
import { accuracy } from '../../src/train/accuracy.js';
import { imageTensor, labelTensor } from '../../src/train/batches.js';
import { seedModelWeights } from '../../src/train/seed.js';

/** The reference: slices of one float tensor through model.apply, statistics frozen by hand in training mode. */
function referenceAccuracy(model: tf.LayersModel, x: tf.Tensor, labels: number[], batchSize: number, training: boolean): number {
  const brns = renormLayers(model);
  for (const l of brns) l.updateStatistics = false;
  let correct = 0;
  for (let start = 0; start < labels.length; start += batchSize) {
    const size = Math.min(batchSize, labels.length - start);
    const predicted = tf.tidy(() => tf.argMax(model.apply(x.slice(start, size), { training }) as tf.Tensor, -1).dataSync());
    predicted.forEach((p, i) => (correct += p === labels[start + i] ? 1 : 0));
  }
  for (const l of brns) l.updateStatistics = true;
  return correct / labels.length;
}

// The cnn's convolutions go another way in accuracy() (tf.conv2d) than in model.apply (fused.conv2d).
for (const [spec, steps] of [[{ type: 'mlp', hidden: [32] }, 8], [{ type: 'cnn', depth: 2, width: 4 }, 40]] as [ModelSpec, number][]) test(`matches a plain batched model.apply in both modes and does not move the moving statistics (${spec.type})`, async () => {
  await initBackend('auto');
  const ds = await loadDataset('mnist');
  const model = buildModel(spec, ds, 10);
  seedModelWeights(model, 1);
  const step = createTrainStep(model, { optimizer: 'adam', learningRate: 0.01 });
  const trainIdx = Int32Array.from({ length: 8 * steps }, (_, i) => i);
  for (let s = 0; s < steps; s++) {
    const idx = trainIdx.subarray(s * 8, s * 8 + 8);
    const x = imageTensor(ds, ds.train, idx);
    const y = labelTensor(ds.train, idx);
    step.step(x, y);
    tf.dispose([x, y]);
  }
  const idx = Int32Array.from({ length: 100 }, (_, i) => i);
  const x = imageTensor(ds, ds.test, idx);
  const labels = Array.from(idx, (i) => ds.test.labels[i]!);
  const moving = () => renormLayers(model).map((l) => Array.from(l.movingMean.read().dataSync()));
  const before = moving();
  for (const training of [false, true]) {
    const ours = accuracy(model, ds, ds.test, idx, 8, training);
    assert.ok(renormLayers(model).every((l) => l.updateStatistics), `accuracy(training=${training}) switches statistics updates back on`);
    assert.equal(ours, referenceAccuracy(model, x, labels, 8, training), `training=${training}`);
    assert.ok(ours > 0.2, `${steps} steps already beat chance (${ours})`);
  }
  assert.deepEqual(moving(), before, 'train-mode scoring must not update moving statistics');
  x.dispose();
  step.dispose();
  model.dispose();
});
