// One JS kernel per variable for an Adam update, replacing the ~13 tensor ops (and kernel launches) tfjs uses.
import * as tf from '@tensorflow/tfjs';
import { withViews } from './heap.js';
import { heapOffset, simdKernels } from './simd/index.js';

export const FUSED_ADAM = 'RenormTuneFusedAdam';

interface AdamAttrs {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** 1 - beta1^t and 1 - beta2^t for this step t (bias corrections). */
  oneMinusAccBeta1: number;
  oneMinusAccBeta2: number;
}

/** Returns [value', m', v'] with tfjs AdamOptimizer's formula: wasm SIMD in float32, else JS in float64. */
function fusedAdam({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap }): tf.TensorInfo[] {
  const value = inputs['value']!;
  const a = attrs as unknown as AdamAttrs;
  const n = tf.util.sizeFromShape(value.shape);
  const simd = n % 4 === 0 ? simdKernels(backend) : null; // whole 4-lane vectors only
  if (simd) {
    // float32 SIMD (as tfjs' own Adam), n % 4 == 0 so no tail.
    const b = backend as unknown as { makeOutput(s: number[], d: 'float32'): tf.TensorInfo };
    const outs = [b.makeOutput(value.shape, 'float32'), b.makeOutput(value.shape, 'float32'), b.makeOutput(value.shape, 'float32')];
    const p = (t: tf.TensorInfo) => heapOffset(backend, t);
    simd.adam(p(value), p(inputs['grad']!), p(inputs['m']!), p(inputs['v']!), p(outs[0]!), p(outs[1]!), p(outs[2]!), n,
      a.beta1, a.beta2, a.learningRate / a.oneMinusAccBeta1, 1 / a.oneMinusAccBeta2, a.epsilon);
    return outs;
  }
  const { outs, ins, outViews } = withViews(backend, [value, inputs['grad']!, inputs['m']!, inputs['v']!], [value.shape, value.shape, value.shape]);
  const [w, g, m, v] = ins as [Float32Array, Float32Array, Float32Array, Float32Array];
  const [w2, m2, v2] = outViews as [Float32Array, Float32Array, Float32Array];
  const { learningRate: lr, beta1: b1, beta2: b2, epsilon: eps, oneMinusAccBeta1: c1, oneMinusAccBeta2: c2 } = a;
  for (let i = 0; i < w.length; i++) {
    const gi = g[i]!;
    const mi = m[i]! * b1 + gi * (1 - b1);
    const vi = v[i]! * b2 + gi * gi * (1 - b2);
    m2[i] = mi;
    v2[i] = vi;
    w2[i] = w[i]! - (lr * (mi / c1)) / (Math.sqrt(vi / c2) + eps);
  }
  return outs;
}

export function registerAdamKernel(backendName: 'wasm' | 'cpu'): void {
  if (tf.getKernel(FUSED_ADAM, backendName)) return;
  tf.registerKernel({ kernelName: FUSED_ADAM, backendName, kernelFunc: fusedAdam as unknown as tf.KernelFunc });
}
