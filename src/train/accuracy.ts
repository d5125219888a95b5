// Accuracy of a model on images picked by index from the shared uint8 data, in inference or training mode.
import * as tf from '@tensorflow/tfjs';
import type { DataSplit, Dataset } from '../data/types.js';
import { renormLayers } from '../engine/models.js';
import { chainLayers, forward } from '../engine/forward.js';
import { imageTensor } from './batches.js';

/**
 * Builds each batch's tensor straight from the uint8 images instead of slicing one big float tensor: on the wasm
 * backend a slice of a [10000, 28, 28, 1] tensor costs ~0.5 s (measured), which made test-set scoring take 15 s.
 * In training mode every BRN layer's statistics updates are switched off for the pass, so measuring never moves
 * the moving averages the inference-mode accuracy depends on.
 */
export function accuracy(model: tf.LayersModel, dataset: Dataset, split: DataSplit, indices: Int32Array, batchSize: number, training: boolean): number {
  if (indices.length === 0) return Number.NaN;
  const brns = training ? renormLayers(model) : [];
  const saved = brns.map((l) => l.updateStatistics);
  brns.forEach((l) => (l.updateStatistics = false));
  // The layers called directly, as the training step does: through model.apply a train-mode pass of 1,000 images at
  // batch 4 took 219 ms, this way 128 ms (the symbolic executor's bookkeeping per call).
  const chain = chainLayers(model);
  let correct = 0;
  try {
    for (let start = 0; start < indices.length; start += batchSize) {
      const idx = indices.subarray(start, Math.min(indices.length, start + batchSize));
      const predicted = tf.tidy(() => tf.argMax(forward(model, chain, imageTensor(dataset, split, idx), { training }, true), -1).dataSync());
      for (let i = 0; i < idx.length; i++) if (predicted[i] === split.labels[idx[i]]) correct++;
    }
  } finally {
    brns.forEach((l, i) => (l.updateStatistics = saved[i]));
  }
  return correct / indices.length;
}
