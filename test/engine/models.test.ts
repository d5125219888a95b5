// Models built from specs: the default CNN is the benchmark's reference network.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, buildModel, renormLayers, setModelClipping, BatchRenormalization } from '../../src/engine/index.js';
import { ConfigError } from '../../src/errors.js';

before(async () => {
  await initBackend('wasm');
});

test('the default cnn is conv3x3x16 -> BRN -> ReLU -> pool -> conv3x3x32 -> BRN -> ReLU -> pool -> dense 10', () => {
  const model = buildModel({ type: 'cnn' }, { height: 28, width: 28, channels: 1 }, 10);
  assert.deepEqual(model.layers.map((l) => l.getClassName()), [
    'Conv2D', 'BatchRenormalization', 'ReLU', 'MaxPooling2D', 'Conv2D', 'BatchRenormalization', 'ReLU', 'MaxPooling2D', 'Flatten', 'Dense',
  ]);
  assert.deepEqual(model.outputs[0]!.shape, [null, 10]);
  // conv1 144 + brn1 32 + conv2 4608 + brn2 64 + dense 1568*10+10: no conv biases.
  assert.equal(model.countParams() - renormLayers(model).reduce((a, l) => a + l.nonTrainableWeights.reduce((b, w) => b + w.shape.reduce((x, y) => x! * y!, 1)!, 0), 0),
    144 + 32 + 4608 + 64 + 15690);
  setModelClipping(model, { rmax: 2, dmax: 1 });
  for (const l of renormLayers(model)) assert.deepEqual(l.getClipping(), { rmax: 2, rmin: 0.5, dmax: 1 });
  assert.throws(() => setModelClipping(model, { rmax: 0, dmax: 1 }), ConfigError);
  model.dispose();
});

test('mlp and deeper cnn build; too deep for the input is a ConfigError on depth', () => {
  const mlp = buildModel({ type: 'mlp', hidden: [16, 8] }, { height: 4, width: 4, channels: 2 }, 3);
  assert.equal(renormLayers(mlp).length, 2);
  assert.ok(renormLayers(mlp).every((l) => l instanceof BatchRenormalization));
  mlp.dispose();
  assert.throws(() => buildModel({ type: 'cnn', depth: 4 }, { height: 8, width: 8, channels: 1 }, 2), (e: unknown) => e instanceof ConfigError && e.field === 'model.depth');
});

test('the direct chain forward equals model.apply, including conv bias, activation and stride', async () => {
  const { chainLayers, forward } = await import('../../src/engine/forward.js');
  const tf = await import('@tensorflow/tfjs');
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [9, 9, 2], filters: 3, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }),
      new BatchRenormalization({}),
      tf.layers.conv2d({ filters: 4, kernelSize: 2, padding: 'valid', useBias: false }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3 }),
    ],
  });
  const x = tf.randomNormal([2, 9, 9, 2], 0, 1, 'float32', 3);
  const chain = chainLayers(model);
  assert.ok(chain !== null && chain.length === 5);
  const direct = forward(model, chain, x, { training: false }).dataSync();
  const viaApply = (model.apply(x, { training: false }) as import('@tensorflow/tfjs').Tensor).dataSync();
  assert.deepEqual(Array.from(direct), Array.from(viaApply));
  // Released as it goes (a scoring pass, whose train-mode form leaves the statistics alone): the same output, and
  // no tensor left behind but the output.
  for (const l of renormLayers(model)) l.updateStatistics = false;
  for (const training of [false, true]) {
    const before = tf.memory().numTensors;
    const released = forward(model, chain, x, { training }, true);
    assert.equal(tf.memory().numTensors, before + 1, `training=${training}: only the output is left`);
    const kept: import("@tensorflow/tfjs").Tensor = tf.tidy(() => forward(model, chain, x, { training }));
    assert.deepEqual(Array.from(released.dataSync()), Array.from(kept.dataSync()), `training=${training}: released, the same output`);
    tf.dispose([released, kept]);
  }
  assert.equal(x.isDisposed, false, 'the input is the caller\'s');
  model.dispose();
});
