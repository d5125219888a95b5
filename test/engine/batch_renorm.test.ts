// BatchRenormalization against the float64 reference: forward, updates, inference, gradients, serialization.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend, BatchRenormalization, buildModel, renormLayers, createTrainStep } from '../../src/engine/index.js';
import { setFusedRenormKernels } from '../../src/engine/ops/renorm.js';
import { ConfigError } from '../../src/errors.js';
import { type RefOptions, type RefState, maxAbsDiff, randn, refGrad, refInference, refTrain, rng } from './brn_reference.js';

before(async () => {
  await initBackend('wasm');
});

const C = 5;
const SHAPE = [4, 3, 3, C];

/** A batch whose channels have distinct means and spreads, so r and d differ per channel. */
function batch(rand: () => number, shift = 0): number[][] {
  const rows: number[][] = [];
  for (let i = 0; i < SHAPE[0]! * SHAPE[1]! * SHAPE[2]!; i++) {
    rows.push(Array.from({ length: C }, (_, j) => (0.5 + 0.4 * j) * randn(rand) + (j - 2) * 0.7 + shift));
  }
  return rows;
}

function initialState(): RefState {
  return {
    gamma: [1.2, 0.8, 1.0, 1.5, 0.6],
    beta: [0.1, -0.2, 0.0, 0.3, -0.1],
    movingMean: [0.2, -0.1, 0.0, 0.4, 0.1],
    movingVariance: [1.1, 0.9, 1.3, 0.7, 2.0],
    movingStddev: [1.05, 0.95, 1.14, 0.84, 1.41],
    renormMean: [-0.5, 0.3, 0.2, -0.4, 0.6],
    renormStddev: [0.6, 1.4, 0.9, 2.5, 1.2],
  };
}

function makeLayer(o: RefOptions, s: RefState): BatchRenormalization {
  const layer = new BatchRenormalization({ momentum: o.momentum, renormMomentum: o.renormMomentum, epsilon: o.epsilon });
  layer.build(SHAPE);
  layer.setClipping({ rmax: o.rmax, rmin: o.rmin, dmax: o.dmax });
  layer.gamma!.write(tf.tensor1d(s.gamma));
  layer.beta!.write(tf.tensor1d(s.beta));
  layer.movingMean.write(tf.tensor1d(s.movingMean));
  layer.movingVariance.write(tf.tensor1d(s.movingVariance));
  layer.movingStddev.write(tf.tensor1d(s.movingStddev));
  layer.renormMean.write(tf.tensor1d(s.renormMean));
  layer.renormStddev.write(tf.tensor1d(s.renormStddev));
  return layer;
}

function stateOf(layer: BatchRenormalization): Record<keyof RefState, Float32Array> {
  return {
    gamma: layer.gamma!.read().dataSync() as Float32Array,
    beta: layer.beta!.read().dataSync() as Float32Array,
    movingMean: layer.movingMean.read().dataSync() as Float32Array,
    movingVariance: layer.movingVariance.read().dataSync() as Float32Array,
    movingStddev: layer.movingStddev.read().dataSync() as Float32Array,
    renormMean: layer.renormMean.read().dataSync() as Float32Array,
    renormStddev: layer.renormStddev.read().dataSync() as Float32Array,
  };
}

const toTensor = (rows: number[][]) => tf.tensor(rows.flat(), SHAPE);

for (const fused of [true, false]) {
  const path = fused ? 'fused kernels' : 'generic ops';

  test(`[${path}] training forward and all five statistics match the float64 reference over 4 steps with clipping`, () => {
    setFusedRenormKernels(fused);
    const o: RefOptions = { epsilon: 1e-3, momentum: 0.9, renormMomentum: 0.8, rmax: 1.5, rmin: 1 / 1.5, dmax: 0.5 };
    let s = initialState();
    const layer = makeLayer(o, s);
    const rand = rng(7);
    let sawClipped = false;
    let sawFree = false;
    for (let step = 0; step < 4; step++) {
      const x = batch(rand, step * 0.3);
      const ref = refTrain(x, s, o);
      const y = tf.tidy(() => (layer.apply(toTensor(x), { training: true }) as tf.Tensor).dataSync());
      assert.ok(maxAbsDiff(y, ref.y.flat()) < 2e-5, `step ${step}: y differs by ${maxAbsDiff(y, ref.y.flat())}`);
      s = ref.next;
      const got = stateOf(layer);
      for (const k of ['movingMean', 'movingVariance', 'movingStddev', 'renormMean', 'renormStddev'] as const) {
        assert.ok(maxAbsDiff(got[k], s[k]) < 1e-5, `step ${step}: ${k} ${Array.from(got[k])} vs reference ${s[k]}`);
      }
      const clippedR = ref.rRaw.filter((v) => v > o.rmax || v < o.rmin).length / C;
      const clippedD = ref.dRaw.filter((v) => Math.abs(v) > o.dmax).length / C;
      assert.deepEqual(layer.clipFractions(), { r: clippedR, d: clippedD }, `step ${step}: clip fractions`);
      if (clippedR > 0 || clippedD > 0) sawClipped = true;
      if (clippedR < 1 || clippedD < 1) sawFree = true;
    }
    assert.ok(sawClipped && sawFree, 'the test data must exercise both clipped and unclipped channels');
    const x = batch(rand);
    const yInf = tf.tidy(() => (layer.apply(toTensor(x), { training: false }) as tf.Tensor).dataSync());
    assert.ok(maxAbsDiff(yInf, refInference(x, s, o).flat()) < 2e-5, 'inference output');
    assert.ok(maxAbsDiff(stateOf(layer).movingMean, s.movingMean) < 1e-5, 'inference must not update statistics');
    layer.dispose();
    setFusedRenormKernels(true);
  });

  test(`[${path}] r and d carry no gradient: tf.grad equals the r,d-constant derivative, not the full one`, () => {
    setFusedRenormKernels(fused);
    // No clipping, so r and d do depend on x and the two derivatives genuinely differ.
    const o: RefOptions = { epsilon: 1e-3, momentum: 0.99, renormMomentum: 0.99, rmax: Infinity, rmin: 0, dmax: Infinity };
    const s = initialState();
    const layer = makeLayer(o, s);
    layer.updateStatistics = false;
    const rand = rng(11);
    const x = batch(rand);
    const w = x.map((row) => row.map(() => randn(rand)));
    const wT = tf.tensor(w.flat(), SHAPE);
    const loss = () => tf.sum(tf.mul(layer.apply(toTensor(x), { training: true }) as tf.Tensor, wT)) as tf.Scalar;
    const dxTf = tf.grad((xt: tf.Tensor) => tf.sum(tf.mul(layer.apply(xt, { training: true }) as tf.Tensor, wT)))(toTensor(x)).dataSync();
    const vg = tf.variableGrads(loss, [layer.gamma!.read() as tf.Variable, layer.beta!.read() as tf.Variable]);
    const ref = refGrad(x, w, s, o);
    assert.ok(maxAbsDiff(dxTf, ref.dx.flat()) < 1e-4, `dx differs by ${maxAbsDiff(dxTf, ref.dx.flat())}`);
    assert.ok(maxAbsDiff(vg.grads[(layer.gamma!.read() as tf.Variable).name]!.dataSync(), ref.dgamma) < 1e-4, 'dgamma');
    assert.ok(maxAbsDiff(vg.grads[(layer.beta!.read() as tf.Variable).name]!.dataSync(), ref.dbeta) < 1e-4, 'dbeta');

    // Central finite differences in float64: with r, d frozen at this batch's values they reproduce the
    // analytic gradient; letting r, d move with x gives a visibly different derivative.
    const { r, d } = refTrain(x, s, o);
    const L = (xs: number[][], frozen: boolean) =>
      refTrain(xs, s, o, frozen ? { r, d } : undefined).y.reduce((acc, row, i) => acc + row.reduce((a, v, j) => a + v * w[i]![j]!, 0), 0);
    const h = 1e-5;
    let worstFrozen = 0;
    let largestGap = 0;
    for (let k = 0; k < 12; k++) {
      const i = Math.floor(rand() * x.length);
      const j = k % C;
      const plus = x.map((row) => row.slice());
      const minus = x.map((row) => row.slice());
      plus[i]![j]! += h;
      minus[i]![j]! -= h;
      const fdFrozen = (L(plus, true) - L(minus, true)) / (2 * h);
      const fdFull = (L(plus, false) - L(minus, false)) / (2 * h);
      worstFrozen = Math.max(worstFrozen, Math.abs(fdFrozen - dxTf[i * C + j]!));
      largestGap = Math.max(largestGap, Math.abs(fdFull - dxTf[i * C + j]!));
    }
    assert.ok(worstFrozen < 1e-3, `tf gradient vs finite differences with r,d constant: ${worstFrozen}`);
    assert.ok(largestGap > 1e-2, `the full derivative (r,d differentiated) should differ, largest gap only ${largestGap}`);
    layer.dispose();
    setFusedRenormKernels(true);
  });

  test(`[${path}] center = false, scale = false: gamma = 1, beta = 0, and neither weight exists`, () => {
    setFusedRenormKernels(fused);
    const o: RefOptions = { epsilon: 1e-3, momentum: 0.9, renormMomentum: 0.8, rmax: 1.5, rmin: 1 / 1.5, dmax: 0.5 };
    const layer = new BatchRenormalization({ center: false, scale: false, momentum: o.momentum, renormMomentum: o.renormMomentum, rmax: o.rmax, dmax: o.dmax });
    layer.build(SHAPE);
    assert.equal(layer.gamma, null);
    assert.equal(layer.beta, null);
    const s: RefState = { ...initialState(), gamma: new Array(C).fill(1), beta: new Array(C).fill(0) };
    for (const k of ['movingMean', 'movingVariance', 'movingStddev', 'renormMean', 'renormStddev'] as const) layer[k].write(tf.tensor1d(s[k]));
    const x = batch(rng(19));
    const ref = refTrain(x, s, o);
    const y = tf.tidy(() => (layer.apply(toTensor(x), { training: true }) as tf.Tensor).dataSync());
    assert.ok(maxAbsDiff(y, ref.y.flat()) < 2e-5, `training y differs by ${maxAbsDiff(y, ref.y.flat())}`);
    assert.ok(maxAbsDiff(layer.renormMean.read().dataSync(), ref.next.renormMean) < 1e-5, 'renormMean update');
    const yInf = tf.tidy(() => (layer.apply(toTensor(x), { training: false }) as tf.Tensor).dataSync());
    assert.ok(maxAbsDiff(yInf, refInference(x, ref.next, o).flat()) < 2e-5, 'inference output');
    layer.dispose();
    setFusedRenormKernels(true);
  });
}

test('rmax = 1, dmax = 0 is exactly BatchNorm (batch statistics, r = 1, d = 0)', () => {
  const o: RefOptions = { epsilon: 1e-3, momentum: 0.99, renormMomentum: 0.99, rmax: 1, rmin: 1, dmax: 0 };
  const s = initialState();
  const layer = makeLayer(o, s);
  const x = batch(rng(3));
  const y = tf.tidy(() => (layer.apply(toTensor(x), { training: true }) as tf.Tensor).dataSync());
  const bn = refTrain(x, s, o, { r: new Array(C).fill(1), d: new Array(C).fill(0) }).y.flat();
  assert.ok(maxAbsDiff(y, bn) < 2e-5);
  layer.dispose();
});

test('setClipping validates and defaults rmin to 1/rmax', () => {
  const layer = new BatchRenormalization({});
  layer.setClipping({ rmax: 4, dmax: 2 });
  assert.deepEqual(layer.getClipping(), { rmax: 4, rmin: 0.25, dmax: 2 });
  layer.setClipping({ rmax: Infinity, dmax: Infinity });
  assert.deepEqual(layer.getClipping(), { rmax: Infinity, rmin: 0, dmax: Infinity });
  assert.throws(() => layer.setClipping({ rmax: 0.5, dmax: 0 }), (e: unknown) => e instanceof ConfigError && e.field === 'clipping.rmax');
  assert.throws(() => layer.setClipping({ rmax: 2, dmax: -1 }), (e: unknown) => e instanceof ConfigError && e.field === 'clipping.dmax');
  assert.throws(() => layer.setClipping({ rmax: 2, rmin: 1.5, dmax: 0 }), (e: unknown) => e instanceof ConfigError && e.field === 'clipping.rmin');
  assert.throws(() => new BatchRenormalization({ momentum: 1 }), (e: unknown) => e instanceof ConfigError && e.field === 'momentum');
});

test('stddev weights start at the square root of the variance initializer, renorm_mean at the mean initializer', () => {
  const layer = new BatchRenormalization({ movingVarianceInitializer: tf.initializers.constant({ value: 4 }) });
  layer.build([2, 3]);
  assert.deepEqual(Array.from(layer.movingStddev.read().dataSync()), [2, 2, 2]);
  assert.deepEqual(Array.from(layer.renormStddev.read().dataSync()), [2, 2, 2]);
  assert.deepEqual(Array.from(layer.renormMean.read().dataSync()), [0, 0, 0]);
  assert.deepEqual(layer.weights.map((w) => w.originalName.split('/').pop()),
    ['gamma', 'beta', 'moving_mean', 'moving_variance', 'moving_stddev', 'renorm_mean', 'renorm_stddev']);
  assert.deepEqual(layer.trainableWeights.map((w) => w.originalName.split('/').pop()), ['gamma', 'beta']);
  layer.dispose();
  const shifted = new BatchRenormalization({ movingMeanInitializer: tf.initializers.constant({ value: 0.5 }) });
  shifted.build([2, 3]);
  assert.deepEqual(Array.from(shifted.renormMean.read().dataSync()), [0.5, 0.5, 0.5], 'Keras starts renorm_mean from moving_mean_initializer');
  shifted.dispose();
});

test('serialization round trip: config and weights survive save/load, outputs are identical', async () => {
  const model = buildModel({ type: 'cnn', depth: 1, width: 4 }, { height: 6, width: 6, channels: 1 }, 3, { rmax: 2, dmax: Infinity, renormMomentum: 0.9 });
  const step = createTrainStep(model, { optimizer: 'sgd', learningRate: 0.1 });
  const x = tf.randomNormal([4, 6, 6, 1], 0, 1, 'float32', 1);
  const labels = tf.tensor1d([0, 1, 2, 1], 'int32');
  step.step(x, labels);
  step.step(x, labels);
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    saved = artifacts;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
  const [a, b] = [renormLayers(model)[0]!, renormLayers(loaded)[0]!];
  assert.ok(b instanceof BatchRenormalization);
  assert.deepEqual(b.getConfig(), a.getConfig());
  assert.deepEqual(b.getClipping(), { rmax: 2, rmin: 0.5, dmax: Infinity });
  assert.equal(b.renormMomentum, 0.9);
  for (const [i, w] of a.weights.entries()) {
    assert.deepEqual(Array.from(b.weights[i]!.read().dataSync()), Array.from(w.read().dataSync()), w.originalName);
  }
  const same = (m: tf.LayersModel) => (m.predict(x) as tf.Tensor).dataSync();
  assert.deepEqual(Array.from(same(loaded)), Array.from(same(model)));
  const json = model.toJSON(null, false) as object;
  const rebuilt = await tf.models.modelFromJSON(json as tf.io.ModelJSON['modelTopology'] as never);
  assert.deepEqual(renormLayers(rebuilt)[0]!.getConfig(), a.getConfig());
  step.dispose();
});

test('updateStatistics = false: a training-mode call leaves every statistic and the clip record untouched; inference mode differs from it', () => {
  const model = buildModel({ type: 'mlp', hidden: [6] }, { height: 3, width: 3, channels: 1 }, 4, { rmax: 1.1, dmax: 0.1 });
  const x = tf.randomNormal([10, 3, 3, 1], 2, 3, 'float32', 5);
  const brn = renormLayers(model)[0]!;
  tf.tidy(() => {
    model.apply(x, { training: true });
  });
  const clipBefore = brn.clipFractions();
  const before = brn.weights.map((w) => Array.from(w.read().dataSync()));
  brn.updateStatistics = false;
  const trainMode = tf.tidy(() => (model.apply(x, { training: true }) as tf.Tensor).dataSync());
  assert.deepEqual(brn.weights.map((w) => Array.from(w.read().dataSync())), before);
  assert.deepEqual(brn.clipFractions(), clipBefore);
  const inference = tf.tidy(() => (model.apply(x, { training: false }) as tf.Tensor).dataSync());
  assert.ok(maxAbsDiff(trainMode, inference) > 1e-3, 'batch statistics and moving statistics must give different outputs here');
  model.dispose();
});

test('axis = 1 (channels first) gives the same result as channels last on the transposed input', () => {
  const rand = rng(29);
  const x = tf.tensor3d(Array.from({ length: 4 * 5 * 6 }, () => randn(rand) * 2 + 1), [4, 5, 6]); // [n, c, l]
  const first = new BatchRenormalization({ axis: 1, rmax: 1.2, dmax: 0.3, renormMomentum: 0.5 });
  const last = new BatchRenormalization({ axis: -1, rmax: 1.2, dmax: 0.3, renormMomentum: 0.5 });
  for (let step = 0; step < 2; step++) {
    const a = (first.apply(x, { training: true }) as tf.Tensor).transpose([0, 2, 1]).dataSync();
    const b = (last.apply(x.transpose([0, 2, 1]), { training: true }) as tf.Tensor).dataSync();
    assert.ok(maxAbsDiff(a, b) < 1e-5, `step ${step}`);
  }
  for (const [i, w] of first.weights.entries()) {
    assert.ok(maxAbsDiff(w.read().dataSync(), last.weights[i]!.read().dataSync()) < 1e-6, w.originalName);
  }
  first.dispose();
  last.dispose();
});
