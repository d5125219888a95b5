// Turns index lists over the shared uint8 images into float tensors, and orders validation images for train-mode evaluation.
import * as tf from '@tensorflow/tfjs';
import { createSampler, type SamplerSpec } from '../data/samplers.js';
import type { DataSplit, Dataset } from '../data/types.js';

/** Pixels scaled to [0, 1]; no mean subtraction, the first normalization layer takes care of centring. */
export function imageTensor(dataset: Dataset, split: DataSplit, indices: ArrayLike<number>): tf.Tensor4D {
  const pixels = dataset.height * dataset.width * dataset.channels;
  const out = new Float32Array(indices.length * pixels);
  const src = split.images;
  for (let b = 0; b < indices.length; b++) {
    const from = indices[b] * pixels;
    const to = b * pixels;
    for (let p = 0; p < pixels; p++) out[to + p] = src[from + p] / 255;
  }
  return tf.tensor4d(out, [indices.length, dataset.height, dataset.width, dataset.channels]);
}

export function labelTensor(split: DataSplit, indices: ArrayLike<number>): tf.Tensor1D {
  return tf.tensor1d(Int32Array.from(indices, (i) => split.labels[i]), 'int32');
}

/**
 * Training-mode accuracy must see batches like the ones the model trained on (a single-class batch normalizes
 * very differently from a mixed one), so the validation images are ordered by the run's own sampler, in chunks of
 * batchSize, for as many batches as cover them once. A `sorted` stream's runs are shortened so that every class
 * gets one run (its long training runs would otherwise fill the whole evaluation with the first few classes).
 */
export function trainModeOrder(indices: Int32Array, labels: Uint8Array, numClasses: number, sampler: SamplerSpec, batchSize: number, seed: number): Int32Array {
  const batches = Math.ceil(indices.length / batchSize);
  const spec: SamplerSpec = sampler.type === 'sorted' ? { type: 'sorted', runLength: Math.max(1, Math.ceil(batches / numClasses)) * batchSize } : sampler;
  const s = createSampler(spec, { indices: Int32Array.from(indices), labels, numClasses, batchSize, seed });
  const out = new Int32Array(batches * batchSize);
  for (let b = 0; b < batches; b++) out.set(s.next(), b * batchSize);
  return out;
}
