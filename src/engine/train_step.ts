// The hot loop: one optimizer step of softmax cross-entropy on a batch.
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

  return {
    optimizer,
    step(x, labels) {
      const cost = optimizer.minimize(() => sparseSoftmaxCrossEntropy(forward(model, chain, x, kwargs), labels), true, vars)!;
      const v = cost.dataSync()[0]!;
      cost.dispose();
      return v;
    },
    dispose() {
      optimizer.dispose();
    },
  };
}
