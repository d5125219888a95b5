// Batch Renormalization over channel-last data in the four fused kernels (moments, per-channel statistics, affine, backward).
import * as tf from '@tensorflow/tfjs';
import { CHANNEL_AFFINE, RENORM_BACKWARD, RENORM_MOMENTS, RENORM_STATS, STATS_OUTPUTS } from '../kernels/renorm_kernels.js';
import type { RenormAttrs, RenormUpdateSink, ResolvedRenormInputs as Params } from './renorm.js';

export function renormInferenceFused(x: tf.Tensor, p: Params, attrs: RenormAttrs): tf.Tensor {
  const scale = tf.mul(p.gamma, tf.rsqrt(tf.add(p.movingVariance, attrs.epsilon)));
  return tf.engine().runKernel(CHANNEL_AFFINE, { x, center: p.movingMean, scale, offset: p.beta }) as tf.Tensor;
}

/**
 * The same maths as the generic path: batch moments, then one kernel for every per-channel quantity (r, d,
 * affine terms and Keras' updated statistics, in float64), the affine pass, and a one-kernel backward.
 */
export function renormTrainingFused(x: tf.Tensor, p: Params, attrs: RenormAttrs, onUpdates?: RenormUpdateSink): tf.Tensor {
  const engine = tf.engine();
  const { rmin, rmax, dmax } = attrs.clipping;
  const statsAttrs = { epsilon: attrs.epsilon, rmin, rmax, dmax, momentum: attrs.momentum, renormMomentum: attrs.renormMomentum };
  // Everything inside the forward function is invisible to the tape, so r and d are gradient-free constants.
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xin, gamma, beta] = args as [tf.Tensor, tf.Tensor, tf.Tensor];
    const save = args[3] as tf.GradSaveFunc;
    const [mean, variance] = engine.runKernel(RENORM_MOMENTS, { x: xin }) as tf.Tensor[] as [tf.Tensor, tf.Tensor];
    const out = engine.runKernel(RENORM_STATS, {
      mean, variance, gamma, beta,
      renormMean: p.renormMean, renormStddev: p.renormStddev, movingMean: p.movingMean, movingStddev: p.movingStddev,
    }, statsAttrs) as tf.Tensor[];
    const s = Object.fromEntries(STATS_OUTPUTS.map((n, i) => [n, out[i]!])) as Record<(typeof STATS_OUTPUTS)[number], tf.Tensor>;
    const y = engine.runKernel(CHANNEL_AFFINE, { x: xin, center: mean, scale: s.scale, offset: s.offset }) as tf.Tensor;
    onUpdates?.({
      movingMean: s.movingMean, movingVariance: s.movingVariance, movingStddev: s.movingStddev,
      renormMean: s.renormMean, renormStddev: s.renormStddev, rRaw: s.rRaw, dRaw: s.dRaw,
    });
    save([xin, mean, s.invstd, s.rg, s.r, s.d]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sx, smean, sinvstd, srg, sr, sd] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        return engine.runKernel(RENORM_BACKWARD, {
          dy: dy as tf.Tensor, x: sx, mean: smean, invstd: sinvstd, scale: srg, r: sr, d: sd,
        }) as tf.Tensor[];
      },
    };
  });
  return op(x, p.gamma, p.beta);
}
