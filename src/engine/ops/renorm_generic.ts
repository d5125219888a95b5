// Batch Renormalization as generic tensor ops: any backend, any feature axis (slower than the fused kernels, equally exact).
import * as tf from '@tensorflow/tfjs';
import type { RenormAttrs, RenormUpdateSink, RenormUpdates, ResolvedRenormInputs as Params } from './renorm.js';

/** Axes reduced over, the per-channel broadcast shape, and how many values each channel's statistics cover. */
function layout(x: tf.Tensor, axis: number): { redAxes: number[]; bshape: number[]; count: number } {
  const redAxes: number[] = [];
  const bshape: number[] = [];
  let count = 1;
  for (let i = 0; i < x.rank; i++) {
    if (i === axis) {
      bshape.push(x.shape[i]!);
    } else {
      redAxes.push(i);
      bshape.push(1);
      count *= x.shape[i]!;
    }
  }
  return { redAxes, bshape, count };
}

export function renormInferenceGeneric(x: tf.Tensor, axis: number, p: Params, attrs: RenormAttrs): tf.Tensor {
  const { bshape } = layout(x, axis);
  const scale = tf.mul(p.gamma, tf.rsqrt(tf.add(p.movingVariance, attrs.epsilon)));
  const offset = tf.sub(p.beta, tf.mul(p.movingMean, scale));
  return tf.add(tf.mul(x, tf.reshape(scale, bshape)), tf.reshape(offset, bshape));
}

function clipSymmetric(t: tf.Tensor, bound: number): tf.Tensor {
  return bound === Infinity ? t : tf.clipByValue(t, -bound, bound);
}

/** Keras' updates, all from this batch's mean and std = sqrt(var + eps), after r and d were formed. */
function updated(p: Params, attrs: RenormAttrs, mean: tf.Tensor, std: tf.Tensor): Omit<RenormUpdates, 'rRaw' | 'dRaw'> {
  const ema = (old: tf.Tensor, value: tf.Tensor, momentum: number) => tf.sub(old, tf.mul(tf.sub(old, value), 1 - momentum));
  const movingStddev = ema(p.movingStddev, std, attrs.momentum);
  return {
    renormMean: ema(p.renormMean, mean, attrs.renormMomentum),
    renormStddev: ema(p.renormStddev, std, attrs.renormMomentum),
    movingMean: ema(p.movingMean, mean, attrs.momentum),
    movingStddev,
    movingVariance: tf.relu(tf.sub(tf.mul(movingStddev, movingStddev), attrs.epsilon)),
  };
}

export function renormTrainingGeneric(x: tf.Tensor, axis: number, p: Params, attrs: RenormAttrs, onUpdates?: RenormUpdateSink): tf.Tensor {
  const { redAxes, bshape, count } = layout(x, axis);
  const eps = attrs.epsilon;
  const { rmax, rmin, dmax } = attrs.clipping;
  // One custom-gradient op: r and d are computed inside its forward pass, which the tape does not record,
  // so they are constants for backprop exactly like Keras' tf.stop_gradient(r), tf.stop_gradient(d).
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xin, gamma, beta] = args as [tf.Tensor, tf.Tensor, tf.Tensor];
    const save = args[3] as tf.GradSaveFunc;
    const mean = tf.mean(xin, redAxes, true);
    const xc = tf.sub(xin, mean);
    const variance = tf.mean(tf.square(xc), redAxes, true);
    const std = tf.sqrt(tf.add(variance, eps));
    const invstd = tf.div(1, std);
    const meanC = tf.reshape(mean, [-1]);
    const stdC = tf.reshape(std, [-1]);
    // r and d against the renorm statistics, whose stddev is floored at sqrt(eps) as in Keras.
    const renormStd = tf.maximum(p.renormStddev, Math.sqrt(eps));
    const rRaw = tf.div(stdC, renormStd);
    const dRaw = tf.div(tf.sub(meanC, p.renormMean), renormStd);
    const r = tf.clipByValue(rRaw, rmin, rmax);
    const d = clipSymmetric(dRaw, dmax);
    const scale = tf.reshape(tf.mul(tf.mul(r, gamma), tf.reshape(invstd, [-1])), bshape);
    const offset = tf.reshape(tf.add(beta, tf.mul(d, gamma)), bshape);
    const y = tf.add(tf.mul(xc, scale), offset);
    if (onUpdates) onUpdates({ ...updated(p, attrs, meanC, stdC), rRaw, dRaw });
    save([xc, invstd, r, d, gamma]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const g = dy as tf.Tensor;
        const [sxc, sinvstd, sr, sd, sgamma] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        const sumDy = tf.sum(g, redAxes, true);
        const sumDyXc = tf.sum(tf.mul(g, sxc), redAxes, true);
        const sumDyC = tf.reshape(sumDy, [-1]);
        const sumDyXhatC = tf.mul(tf.reshape(sumDyXc, [-1]), tf.reshape(sinvstd, [-1]));
        const dgamma = tf.add(tf.mul(sr, sumDyXhatC), tf.mul(sd, sumDyC));
        const dbeta = sumDyC;
        // dx = r*gamma*invstd * (dy - mean(dy) - xhat * mean(dy*xhat)), with xhat = xc*invstd.
        const a = tf.mul(tf.reshape(tf.mul(sr, sgamma), bshape), sinvstd);
        const b = tf.mul(a, tf.mul(tf.square(sinvstd), tf.div(sumDyXc, -count)));
        const c = tf.mul(a, tf.div(sumDy, -count));
        const dx = tf.add(tf.add(tf.mul(g, a), tf.mul(sxc, b)), c);
        return [dx, dgamma, dbeta];
      },
    };
  });
  return op(x, p.gamma, p.beta);
}
