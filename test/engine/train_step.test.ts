// The train step on every available backend, and wasm vs cpu agreement on the whole step (conv grads, BRN, Adam).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend, buildModel, createTrainStep, renormLayers, setModelClipping } from '../../src/engine/index.js';
import { BackendError, ConfigError } from '../../src/errors.js';
import { seedModelWeights } from '../../src/train/seed.js';
import { maxAbsDiff, randn, rng } from './brn_reference.js';

const rand = rng(17);
const XS = Array.from({ length: 6 * 8 * 8 * 1 }, () => randn(rand));
const LABELS = [0, 1, 2, 0, 1, 2];

/** Trains 4 steps of a small CNN (`width` filters, then twice as many) from fixed weights; returns losses and final weights. */
function trainSmall(initial?: tf.Tensor[], width = 4) {
  const model = buildModel({ type: 'cnn', depth: 2, width }, { height: 8, width: 8, channels: 1 }, 3, { renormMomentum: 0.9, momentum: 0.9 });
  if (initial) model.setWeights(initial);
  setModelClipping(model, { rmax: 1.5, dmax: 0.5 });
  const step = createTrainStep(model, { optimizer: 'adam', learningRate: 0.01 });
  const x = tf.tensor4d(XS, [6, 8, 8, 1]);
  const y = tf.tensor1d(LABELS, 'int32');
  const losses: number[] = [];
  let tensorsAfterFirst = 0;
  for (let i = 0; i < 4; i++) {
    losses.push(step.step(x, y));
    if (i === 0) tensorsAfterFirst = tf.memory().numTensors;
  }
  const leak = tf.memory().numTensors - tensorsAfterFirst;
  const weights = model.getWeights().map((w) => Array.from(w.dataSync()));
  const clip = renormLayers(model).map((l) => l.clipFractions());
  const inference = Array.from((model.predict(x) as tf.Tensor).dataSync());
  step.dispose();
  x.dispose();
  y.dispose();
  return { model, losses, leak, weights, clip, inference };
}

for (const name of ['wasm', 'cpu', 'node', 'node-gpu'] as const) {
  test(`training step on the ${name} backend`, async (t) => {
    try {
      await initBackend(name);
    } catch (e) {
      if (e instanceof BackendError && (name === 'node' || name === 'node-gpu')) {
        t.skip(`${name} backend not installed here: ${e.message}`);
        return;
      }
      throw e;
    }
    const r = trainSmall();
    assert.ok(r.losses.every(Number.isFinite), `losses ${r.losses}`);
    assert.ok(r.losses[3]! < r.losses[0]!, `loss should fall on a fixed batch: ${r.losses}`);
    assert.equal(r.leak, 0, 'no tensors may leak per step');
    for (const c of r.clip) assert.ok(c.r >= 0 && c.r <= 1 && c.d >= 0 && c.d <= 1);
    assert.ok(r.inference.every(Number.isFinite), 'inference-mode logits are finite');
    r.model.dispose();
  });
}

// Width 4 keeps every channel count a multiple of 4; 6 and 3 take the widened convolutions and max-pool gradient
// and the BRN kernels' tiled rows (src/engine/kernels/channel_groups.ts, renorm_simd.ts).
for (const width of [4, 6, 3]) {
  test(`wasm and cpu agree on four full training steps from the same weights, width ${width}`, async () => {
    await initBackend('wasm');
    const seedModel = buildModel({ type: 'cnn', depth: 2, width }, { height: 8, width: 8, channels: 1 }, 3);
    // Seeded weights: the comparison is the same on every run. (Unseeded, one CI run drew weights for which the
    // fourth step's losses differed by 5e-4 while the first three agreed to 1e-6, presumably a clip or ReLU boundary
    // crossed on one backend only; over 1,860 seeded draws at width 4 the largest difference was 1.3e-5.)
    seedModelWeights(seedModel, width);
    const initial = seedModel.getWeights().map((w) => Array.from(w.dataSync()));
    const shapes = seedModel.getWeights().map((w) => w.shape);
    seedModel.dispose();
    const tensors = () => initial.map((v, i) => tf.tensor(v, shapes[i]));
    const onWasm = trainSmall(tensors(), width);
    assert.equal(onWasm.leak, 0, 'no tensors may leak per step');
    await initBackend('cpu');
    const onCpu = trainSmall(tensors(), width);
    assert.ok(maxAbsDiff(onWasm.losses, onCpu.losses) < 1e-4, `losses ${onWasm.losses} vs ${onCpu.losses}`);
    onWasm.weights.forEach((w, i) => assert.ok(maxAbsDiff(w, onCpu.weights[i]!) < 1e-3, `weight ${i}`));
    onWasm.model.dispose();
    onCpu.model.dispose();
    await initBackend('wasm');
  });
}

test('createTrainStep rejects bad options with the field named', async () => {
  await initBackend('wasm');
  const model = buildModel({ type: 'mlp', hidden: [4] }, { height: 2, width: 2, channels: 1 }, 2);
  assert.throws(() => createTrainStep(model, { optimizer: 'adam', learningRate: -1 }), (e: unknown) => e instanceof ConfigError && e.field === 'learningRate');
  assert.throws(() => createTrainStep(model, { optimizer: 'rmsprop' as 'adam', learningRate: 0.1 }), (e: unknown) => e instanceof ConfigError && e.field === 'optimizer');
  assert.throws(() => createTrainStep(model, { optimizer: 'sgd', learningRate: 0.1, renormMomentum: 1.5 }), (e: unknown) => e instanceof ConfigError && e.field === 'renormMomentum');
  const ok = createTrainStep(model, { optimizer: 'momentum', learningRate: 0.1, renormMomentum: 0.5 });
  assert.equal(renormLayers(model)[0]!.renormMomentum, 0.5);
  assert.ok(Number.isFinite(ok.step(tf.ones([2, 2, 2, 1]), tf.tensor1d([0, 1], 'int32'))));
  ok.dispose();
  model.dispose();
});
