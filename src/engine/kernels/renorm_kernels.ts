// JS kernels for the BRN layer over channel-last data: batch moments, per-channel affine, and the fused backward.
// They replace ~15 generic tensor passes (plus the transposes wasm reductions need) with 1-2 passes each.
import * as tf from '@tensorflow/tfjs';
import { withViews } from './heap.js';
import { affineSimd, backwardSimd, momentsSimd, renormSimd } from './renorm_simd.js';

export const RENORM_MOMENTS = 'RenormMoments';
export const CHANNEL_AFFINE = 'RenormChannelAffine';
export const RENORM_BACKWARD = 'RenormBackward';
export const RENORM_STATS = 'RenormStats';

/** Order of RenormStats' outputs. */
export const STATS_OUTPUTS = [
  'scale', 'offset', 'rg', 'r', 'd', 'rRaw', 'dRaw', 'invstd',
  'renormMean', 'renormStddev', 'movingMean', 'movingStddev', 'movingVariance',
] as const;

interface StatsAttrs {
  epsilon: number;
  rmin: number;
  rmax: number;
  dmax: number;
  momentum: number;
  renormMomentum: number;
}

type Args = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap };

function channels(x: tf.TensorInfo): number {
  return x.shape[x.shape.length - 1]!;
}

/** mean and biased variance over every axis but the last; two passes with float64 accumulators for accuracy. */
function moments({ inputs, backend }: Args): tf.TensorInfo[] {
  const x = inputs['x']!;
  const c = channels(x);
  const simd = renormSimd(backend, c, tf.util.sizeFromShape(x.shape));
  if (simd) return momentsSimd(simd.k, backend, x, c, simd.lanes);
  const { outs, ins, outViews } = withViews(backend, [x], [[c], [c]]);
  const xv = ins[0]!;
  const m = xv.length / c;
  const sum = new Float64Array(c);
  for (let i = 0; i < xv.length; i += c) for (let j = 0; j < c; j++) sum[j] += xv[i + j]!;
  for (let j = 0; j < c; j++) sum[j] /= m;
  const ss = new Float64Array(c);
  for (let i = 0; i < xv.length; i += c) {
    for (let j = 0; j < c; j++) {
      const dev = xv[i + j]! - sum[j]!;
      ss[j] += dev * dev;
    }
  }
  const [meanOut, varOut] = outViews as [Float32Array, Float32Array];
  for (let j = 0; j < c; j++) {
    meanOut[j] = sum[j]!;
    varOut[j] = ss[j]! / m;
  }
  return outs;
}

/** y = (x - center[c]) * scale[c] + offset[c]; centering first keeps precision when |mean| >> std. */
function affine({ inputs, backend }: Args): tf.TensorInfo {
  const x = inputs['x']!;
  const c = channels(x);
  const simd = renormSimd(backend, c, tf.util.sizeFromShape(x.shape));
  if (simd) return affineSimd(simd.k, backend, x, c, simd.lanes, inputs['center']!, inputs['scale']!, inputs['offset']!);
  const { outs, ins, outViews } = withViews(backend, [x, inputs['center']!, inputs['scale']!, inputs['offset']!], [x.shape]);
  const [xv, mu, a, b] = ins as [Float32Array, Float32Array, Float32Array, Float32Array];
  const y = outViews[0]!;
  for (let i = 0; i < xv.length; i += c) for (let j = 0; j < c; j++) y[i + j] = (xv[i + j]! - mu[j]!) * a[j]! + b[j]!;
  return outs[0]!;
}

/**
 * Backward of y = ((x - mean) * invstd * r + d) * gamma + beta with the batch mean/variance differentiated
 * and r, d constant (`scale` = r * gamma):
 *   dx = scale * invstd * (dy - mean(dy) - xhat * mean(dy * xhat)),  xhat = (x - mean) * invstd,
 *   dgamma = r * sum(dy * xhat) + d * sum(dy),  dbeta = sum(dy).   Outputs [dx, dgamma, dbeta].
 */
function backward({ inputs, backend }: Args): tf.TensorInfo[] {
  const x = inputs['x']!;
  const c = channels(x);
  const simd = renormSimd(backend, c, tf.util.sizeFromShape(x.shape));
  if (simd) {
    return backwardSimd(simd.k, backend, c, simd.lanes, {
      dy: inputs['dy']!, x, mean: inputs['mean']!, invstd: inputs['invstd']!, scale: inputs['scale']!, r: inputs['r']!, d: inputs['d']!,
    });
  }
  const { outs, ins, outViews } = withViews(
    backend,
    [inputs['dy']!, x, inputs['mean']!, inputs['invstd']!, inputs['scale']!, inputs['r']!, inputs['d']!],
    [x.shape, [c], [c]],
  );
  const [dy, xv, mean, invstd, scale, r, d] = ins as Float32Array[] as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array, Float32Array, Float32Array];
  const [dx, dgammaOut, dbetaOut] = outViews as [Float32Array, Float32Array, Float32Array];
  const m = xv.length / c;
  const sDy = new Float64Array(c);
  const sDyXc = new Float64Array(c);
  for (let i = 0; i < xv.length; i += c) {
    for (let j = 0; j < c; j++) {
      const g = dy[i + j]!;
      sDy[j] += g;
      sDyXc[j] += g * (xv[i + j]! - mean[j]!);
    }
  }
  // dx = A*dy + B*(x - mean) + K per channel, constants kept in float64.
  const A = new Float64Array(c);
  const B = new Float64Array(c);
  const K = new Float64Array(c);
  for (let j = 0; j < c; j++) {
    const is = invstd[j]!;
    const a = scale[j]! * is;
    const b = (-a * is * is * sDyXc[j]!) / m;
    A[j] = a;
    B[j] = b;
    K[j] = (-a * sDy[j]!) / m;
    dbetaOut[j] = sDy[j]!;
    dgammaOut[j] = r[j]! * sDyXc[j]! * is + d[j]! * sDy[j]!;
  }
  for (let i = 0; i < xv.length; i += c) {
    for (let j = 0; j < c; j++) dx[i + j] = A[j]! * dy[i + j]! + B[j]! * (xv[i + j]! - mean[j]!) + K[j]!;
  }
  return outs;
}

/**
 * Every per-channel quantity of a training step in one call (~30 tiny tensor ops otherwise, each a kernel launch
 * that costs more than its arithmetic): r, d (raw and clipped, from pre-update statistics), the affine
 * scale/offset, and Keras' updated statistics. Evaluated in float64.
 */
function stats({ inputs, backend, attrs }: Args): tf.TensorInfo[] {
  const a = attrs as unknown as StatsAttrs;
  const names = ['mean', 'variance', 'gamma', 'beta', 'renormMean', 'renormStddev', 'movingMean', 'movingStddev'];
  const c = inputs['mean']!.shape[0]!;
  const { outs, ins, outViews } = withViews(backend, names.map((n) => inputs[n]!), STATS_OUTPUTS.map(() => [c]));
  const [mean, variance, gamma, beta, rMean, rStd, mMean, mStd] = ins as Float32Array[];
  const [scale, offset, rg, r, d, rRaw, dRaw, invstd, nRMean, nRStd, nMMean, nMStd, nMVar] = outViews as Float32Array[];
  const floor = Math.sqrt(a.epsilon);
  const rm = 1 - a.renormMomentum;
  const m = 1 - a.momentum;
  for (let j = 0; j < c; j++) {
    const mu = mean![j]!;
    const std = Math.sqrt(variance![j]! + a.epsilon);
    const rs = Math.max(rStd![j]!, floor);
    const rr = std / rs;
    const dr = (mu - rMean![j]!) / rs;
    const rc = Math.min(Math.max(rr, a.rmin), a.rmax);
    const dc = Math.min(Math.max(dr, -a.dmax), a.dmax);
    const g = gamma![j]!;
    rRaw![j] = rr;
    dRaw![j] = dr;
    r![j] = rc;
    d![j] = dc;
    rg![j] = rc * g;
    invstd![j] = 1 / std;
    scale![j] = (rc * g) / std;
    offset![j] = beta![j]! + dc * g;
    nRMean![j] = rMean![j]! - (rMean![j]! - mu) * rm;
    nRStd![j] = rStd![j]! - (rStd![j]! - std) * rm;
    nMMean![j] = mMean![j]! - (mMean![j]! - mu) * m;
    const ms = mStd![j]! - (mStd![j]! - std) * m;
    nMStd![j] = ms;
    nMVar![j] = Math.max(Math.fround(ms) * Math.fround(ms) - a.epsilon, 0);
  }
  return outs;
}

const KERNELS: [string, (a: Args) => tf.TensorInfo | tf.TensorInfo[]][] = [
  [RENORM_STATS, stats],
  [RENORM_MOMENTS, moments],
  [CHANNEL_AFFINE, affine],
  [RENORM_BACKWARD, backward],
];

/** Registers the BRN kernels for a backend whose tensors live in JS-reachable memory (wasm, cpu). */
export function registerRenormKernels(backendName: 'wasm' | 'cpu'): void {
  for (const [name, fn] of KERNELS) {
    if (tf.getKernel(name, backendName)) continue;
    tf.registerKernel({ kernelName: name, backendName, kernelFunc: fn as unknown as tf.KernelFunc });
  }
}

/** True when the active backend runs the fused BRN kernels (otherwise the layer composes generic ops). */
export function renormKernelsActive(): boolean {
  return tf.getKernel(RENORM_MOMENTS, tf.getBackend()) !== undefined;
}
