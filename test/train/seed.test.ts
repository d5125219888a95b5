// Seeded weight init: same seed -> same weights, other seed -> other weights, and the Glorot spread is kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { buildModel, initBackend } from '../../src/engine/index.js';
import { seedModelWeights } from '../../src/train/index.js';

const weights = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));

test('seedModelWeights reproduces weights for a seed and keeps the initializer distribution', async () => {
  await initBackend('auto');
  const make = (seed: number) => {
    const m = buildModel({ type: 'mlp', hidden: [64] }, { height: 28, width: 28, channels: 1 }, 10);
    seedModelWeights(m, seed);
    return m;
  };
  const [a, b, c] = [make(5), make(5), make(6)];
  assert.deepEqual(weights(a), weights(b));
  assert.notDeepEqual(weights(a)[0], weights(c)[0]);
  // Glorot normal, tfjs' default kernel init: a normal of std sqrt(2 / (fanIn + fanOut)) truncated at 2 std, which
  // shrinks the std by 0.87962566 (tfjs does not rescale). ~50k samples, so 5% is many standard errors.
  const kernel = weights(a)[0];
  assert.equal(kernel.length, 784 * 64);
  const mean = kernel.reduce((s, v) => s + v, 0) / kernel.length;
  const std = Math.sqrt(kernel.reduce((s, v) => s + (v - mean) ** 2, 0) / kernel.length);
  const expected = 0.87962566 * Math.sqrt(2 / (784 + 64));
  assert.ok(Math.abs(std / expected - 1) < 0.05, `std ${std} vs Glorot ${expected}`);
  assert.ok(Math.abs(mean) < 0.002, `mean ${mean}`);
  [a, b, c].forEach((m) => m.dispose());
});
