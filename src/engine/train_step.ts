// The hot loop: one optimizer step of softmax cross-entropy on a batch, plus accuracy evaluation.
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';
import { renormLayers } from './models.js';
import { FusedAdamOptimizer } from './fused_adam.js';
import { chainLayers, forward } from './forward.js';
import { sparseSoftmaxCrossEntropy } from './kernels/sparse_ce_kernel.js';

import type { TrainingOptimizerName } from '../shared/names.js';

export type OptimizerName = TrainingOptimizerName;

export interface TrainStepOptions {
  optimizer: OptimizerName;
  learningRate: number;
  /** Overrides every BRN layer's renormMomentum (decay of the statistics r and d are measured against). */
  renormMomentum?: number;
}

export interface TrainStep {
  /** One step; returns the batch's mean loss. Reading it is a device sync (free on wasm/cpu, costly on GPU). */
  step(x: tf.Tensor, labels: tf.Tensor): number;
  /** One step without reading the loss: the caller owns (and must dispose) the returned scalar; read it every k steps. */
  stepLazy(x: tf.Tensor, labels: tf.Tensor): tf.Scalar;
  readonly optimizer: tf.Optimizer;
  dispose(): void;
}

export function makeOptimizer(name: OptimizerName, learningRate: number): tf.Optimizer {
  if (!(typeof learningRate === 'number' && learningRate > 0 && Number.isFinite(learningRate))) {
    throw new ConfigError('learningRate', `must be a positive number, got ${String(learningRate)}`, 'use e.g. 1e-3 for adam, 0.05 for sgd');
  }
  switch (name) {
    case 'adam':
      return new FusedAdamOptimizer(learningRate);
    case 'sgd':
      return tf.train.sgd(learningRate);
    case 'momentum':
      return tf.train.momentum(learningRate, 0.9);
    default:
      throw new ConfigError('optimizer', `must be "adam", "sgd" or "momentum", got ${JSON.stringify(name)}`, 'use "adam"');
  }
}

export function createTrainStep(model: tf.LayersModel, opts: TrainStepOptions): TrainStep {
  const optimizer = makeOptimizer(opts.optimizer, opts.learningRate);
  if (opts.renormMomentum !== undefined) {
    const m = opts.renormMomentum;
    if (!(typeof m === 'number' && m >= 0 && m < 1)) {
      throw new ConfigError('renormMomentum', `must be in [0, 1), got ${String(m)}`, 'use e.g. 0.99');
    }
    for (const l of renormLayers(model)) l.renormMomentum = m;
  }
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const chain = chainLayers(model);
  const kwargs = { training: true };

  const stepLazy = (x: tf.Tensor, labels: tf.Tensor): tf.Scalar => {
    const cost = optimizer.minimize(
      () => {
        const logits = forward(model, chain, x, kwargs);
        return sparseSoftmaxCrossEntropy(logits, labels);
      },
      true,
      vars,
    );
    return cost!;
  };

  return {
    optimizer,
    stepLazy,
    step(x, labels) {
      const cost = stepLazy(x, labels);
      const v = cost.dataSync()[0]!;
      cost.dispose();
      return v;
    },
    dispose() {
      optimizer.dispose();
    },
  };
}

export interface EvaluateOptions {
  batchSize: number;
  /**
   * true: normalize with each batch's statistics (shows the train/inference gap of BatchNorm); moving
   * statistics are left untouched because every BRN layer's updateStatistics is off during the pass.
   */
  training: boolean;
}

/** Accuracy of `model` on images [N, ...] against int32 class ids [N]. */
export function evaluate(model: tf.LayersModel, images: tf.Tensor, labels: tf.Tensor, opts: EvaluateOptions): number {
  const n = images.shape[0]!;
  if (labels.shape[0] !== n) throw new ConfigError('labels', `has ${labels.shape[0]} rows but images has ${n}`, 'pass one label per image');
  if (!(Number.isInteger(opts.batchSize) && opts.batchSize >= 1)) {
    throw new ConfigError('batchSize', `must be a positive integer, got ${String(opts.batchSize)}`, 'use e.g. 256');
  }
  if (n === 0) return NaN;
  const brns = renormLayers(model);
  const saved = brns.map((l) => l.updateStatistics);
  if (opts.training) for (const l of brns) l.updateStatistics = false;
  const chain = chainLayers(model);
  const kwargs = { training: opts.training };
  let correct = 0;
  try {
    for (let start = 0; start < n; start += opts.batchSize) {
      const size = Math.min(opts.batchSize, n - start);
      correct += tf.tidy(() => {
        const xb = images.slice(start, size);
        const yb = labels.slice(start, size).toInt();
        const logits = forward(model, chain, xb, kwargs);
        return tf.sum(tf.equal(tf.argMax(logits, -1).toInt(), yb).toInt()).dataSync()[0]!;
      });
    }
  } finally {
    brns.forEach((l, i) => (l.updateStatistics = saved[i]!));
  }
  return correct / n;
}
