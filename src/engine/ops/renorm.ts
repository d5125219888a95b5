// The Batch Renormalization op (Keras renorm=True maths): picks the fused kernels where the backend has them, else generic tensor ops.
import * as tf from '@tensorflow/tfjs';
import type { Clipping } from '../../schedule/types.js';
import { renormKernelsActive } from '../kernels/renorm_kernels.js';
import { renormInferenceFused, renormTrainingFused } from './renorm_fused.js';
import { renormInferenceGeneric, renormTrainingGeneric } from './renorm_generic.js';

/** The five per-channel statistics a BRN layer keeps, as Keras names them (moving_* for inference, renorm_* for r and d). */
export interface RenormStatistics {
  movingMean: tf.Tensor;
  movingVariance: tf.Tensor;
  movingStddev: tf.Tensor;
  renormMean: tf.Tensor;
  renormStddev: tf.Tensor;
}

export interface RenormInputs extends RenormStatistics {
  /** Scale; null means 1 (the layer's `scale: false`). */
  gamma: tf.Tensor | null;
  /** Offset; null means 0 (the layer's `center: false`). */
  beta: tf.Tensor | null;
}

/** The inputs with gamma and beta filled in, as the two implementations take them. */
export type ResolvedRenormInputs = RenormInputs & { gamma: tf.Tensor; beta: tf.Tensor };

export interface RenormAttrs {
  /** Feature axis, negative counting from the end. */
  axis: number;
  epsilon: number;
  /** Decay of moving_mean / moving_stddev. */
  momentum: number;
  /** Decay of renorm_mean / renorm_stddev. */
  renormMomentum: number;
  clipping: Clipping;
  /** Batch statistics with the r, d correction (true) or the moving statistics (false). */
  training: boolean;
}

/** What one training call moves the statistics to, plus this batch's unclipped r and d (for clip fractions). */
export interface RenormUpdates extends RenormStatistics {
  rRaw: tf.Tensor;
  dRaw: tf.Tensor;
}

/**
 * Receives a training call's updates while the op runs. The tensors are freed when the op returns (they are made
 * inside the gradient's forward pass, which tidies up after itself): write them into variables or tf.keep them.
 */
export type RenormUpdateSink = (updates: RenormUpdates) => void;

let fusedEnabled = true;
/** Test hook: false forces the generic tensor-op path even where the fused BRN kernels are registered. */
export function setFusedRenormKernels(on: boolean): void {
  fusedEnabled = on;
}

/**
 * y = gamma * ((x - mean) / std * r + d) + beta in training (batch mean and std = sqrt(var + eps); r and d
 * clipped and carrying no gradient, like Keras' tf.stop_gradient), gamma * (x - moving_mean) / sqrt(moving_var + eps)
 * + beta in inference. A training call hands the updated statistics to `onUpdates` (none: nothing is updated).
 */
export function batchRenorm(x: tf.Tensor, inputs: RenormInputs, attrs: RenormAttrs, onUpdates?: RenormUpdateSink): tf.Tensor {
  const axis = attrs.axis >= 0 ? attrs.axis : attrs.axis + x.rank;
  const c = x.shape[axis]!;
  const p: ResolvedRenormInputs = { ...inputs, gamma: inputs.gamma ?? tf.ones([c]), beta: inputs.beta ?? tf.zeros([c]) };
  // The fused kernels read channels as the innermost axis.
  const fused = fusedEnabled && axis === x.rank - 1 && renormKernelsActive();
  if (!attrs.training) return fused ? renormInferenceFused(x, p, attrs) : renormInferenceGeneric(x, axis, p, attrs);
  return fused ? renormTrainingFused(x, p, attrs, onUpdates) : renormTrainingGeneric(x, axis, p, attrs, onUpdates);
}
