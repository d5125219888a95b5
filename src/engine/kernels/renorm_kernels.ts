// JS kernels for the BRN layer over channel-last data: batch moments, per-channel affine, and the fused backward.
// They replace ~15 generic tensor passes (plus the transposes wasm reductions need) with 1-2 passes each.
import * as tf from '@tensorflow/tfjs';
import { withViews } from './heap.js';
import { affineSimd, backwardSimd, momentsSimd, simdFor } from './renorm_simd.js';

export const RENORM_MOMENTS = 'RenormMoments';
export const CHANNEL_AFFINE = 'RenormChannelAffine';
export const RENORM_BACKWARD = 'RenormBackward';

type Args = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap };

function channels(x: tf.TensorInfo): number {
  return x.shape[x.shape.length - 1]!;
}

/** mean and biased variance over every axis but the last; two passes with float64 accumulators for accuracy. */
function moments({ inputs, backend }: Args): tf.TensorInfo[] {
  const x = inputs['x']!;
  const c = channels(x);
  const simd = simdFor(backend, c);
  if (simd) return momentsSimd(simd, backend, x, c);
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
  const simd = simdFor(backend, c);
  if (simd) return affineSimd(simd, backend, x, c, inputs['center']!, inputs['scale']!, inputs['offset']!);
  const { outs, ins, outViews } = withViews(backend, [x, inputs['center']!, inputs['scale']!, inputs['offset']!], [x.shape]);
  const [xv, mu, a, b] = ins as [Float32Array, Float32Array, Float32Array, Float32Array];
  const y = outViews[0]!;
  for (let i = 0; i < xv.length; i += c) for (let j = 0; j < c; j++) y[i + j] = (xv[i + j]! - mu[j]!) * a[j]! + b[j]!;
  return outs[0]!;
}

/**
 * Backward of y = (x - mean) * invstd * scale' + offset with batch mean/variance differentiated and the
 * per-channel multiplier `scale` (= r * gamma) constant:
 *   dx = scale * invstd * (dy - mean(dy) - xhat * mean(dy * xhat)),  xhat = (x - mean) * invstd.
 * Also returns sum(dy) and sum(dy * xhat) per channel, from which dgamma and dbeta follow.
 */
function backward({ inputs, backend }: Args): tf.TensorInfo[] {
  const x = inputs['x']!;
  const c = channels(x);
  const simd = simdFor(backend, c);
  if (simd) {
    return backwardSimd(simd, backend, c, {
      dy: inputs['dy']!, x, mean: inputs['mean']!, invstd: inputs['invstd']!, scale: inputs['scale']!,
    });
  }
  const { outs, ins, outViews } = withViews(
    backend,
    [inputs['dy']!, x, inputs['mean']!, inputs['invstd']!, inputs['scale']!],
    [x.shape, [c], [c]],
  );
  const [dy, xv, mean, invstd, scale] = ins as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array];
  const [dx, sumDyOut, sumDyXhatOut] = outViews as [Float32Array, Float32Array, Float32Array];
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
    sumDyOut[j] = sDy[j]!;
    sumDyXhatOut[j] = sDyXc[j]! * is;
  }
  for (let i = 0; i < xv.length; i += c) {
    for (let j = 0; j < c; j++) dx[i + j] = A[j]! * dy[i + j]! + B[j]! * (xv[i + j]! - mean[j]!) + K[j]!;
  }
  return outs;
}

const KERNELS: [string, (a: Args) => tf.TensorInfo | tf.TensorInfo[]][] = [
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
