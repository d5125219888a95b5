// The BRN kernels' wasm SIMD paths: the same maths as renorm_kernels.ts' JS loops, run in place on the heap.
import * as tf from '@tensorflow/tfjs';
import { heapF32, heapF64, heapOffset, simdKernels, type SimdKernels } from './simd/index.js';

type WasmBackend = tf.KernelBackend & { makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo };

/** The SIMD kernels when `backend` is wasm and channels fill whole 4-lane vectors, else null. */
export function simdFor(backend: tf.KernelBackend, c: number): SimdKernels | null {
  if (c % 4 !== 0 || typeof (backend as Partial<WasmBackend>).makeOutput !== 'function') return null;
  return simdKernels(backend);
}

export function momentsSimd(k: SimdKernels, backend: tf.KernelBackend, x: tf.TensorInfo, c: number): tf.TensorInfo[] {
  const b = backend as WasmBackend;
  const rows = tf.util.sizeFromShape(x.shape) / c;
  const mean = b.makeOutput([c], 'float32');
  const variance = b.makeOutput([c], 'float32');
  const scratch = b.makeOutput([2 * c], 'float32'); // c float64 accumulators
  const xp = heapOffset(b, x);
  const sp = heapOffset(b, scratch);
  const mp = heapOffset(b, mean);
  k.colsum(xp, rows, c, sp);
  const acc = heapF64(b, sp, c);
  const m = heapF32(b, mp, c);
  for (let j = 0; j < c; j++) m[j] = acc[j]! / rows;
  k.colsqdev(xp, rows, c, mp, sp);
  const v = heapF32(b, heapOffset(b, variance), c);
  const acc2 = heapF64(b, sp, c);
  for (let j = 0; j < c; j++) v[j] = acc2[j]! / rows;
  b.disposeData(scratch.dataId);
  return [mean, variance];
}

export function affineSimd(k: SimdKernels, backend: tf.KernelBackend, x: tf.TensorInfo, c: number,
  center: tf.TensorInfo, scale: tf.TensorInfo, offset: tf.TensorInfo): tf.TensorInfo {
  const b = backend as WasmBackend;
  const y = b.makeOutput(x.shape, 'float32');
  k.affine(heapOffset(b, x), heapOffset(b, y), tf.util.sizeFromShape(x.shape) / c, c,
    heapOffset(b, center), heapOffset(b, scale), heapOffset(b, offset));
  return y;
}

export function backwardSimd(k: SimdKernels, backend: tf.KernelBackend, c: number,
  t: { dy: tf.TensorInfo; x: tf.TensorInfo; mean: tf.TensorInfo; invstd: tf.TensorInfo; scale: tf.TensorInfo; r: tf.TensorInfo; d: tf.TensorInfo }): tf.TensorInfo[] {
  const b = backend as WasmBackend;
  const rows = tf.util.sizeFromShape(t.x.shape) / c;
  const dx = b.makeOutput(t.x.shape, 'float32');
  const dgamma = b.makeOutput([c], 'float32');
  const dbeta = b.makeOutput([c], 'float32');
  const scratch = b.makeOutput([4 * c], 'float32'); // 2c float64 sums
  const consts = b.makeOutput([3 * c], 'float32'); // A, B, K per channel
  const sp = heapOffset(b, scratch);
  const cp = heapOffset(b, consts);
  const mp = heapOffset(b, t.mean);
  k.colsum_dy_dyxc(heapOffset(b, t.dy), heapOffset(b, t.x), rows, c, mp, sp);
  const acc = heapF64(b, sp, 2 * c);
  const invstd = heapF32(b, heapOffset(b, t.invstd), c);
  const scale = heapF32(b, heapOffset(b, t.scale), c);
  const abk = heapF32(b, cp, 3 * c);
  const dgammaOut = heapF32(b, heapOffset(b, dgamma), c);
  const dbetaOut = heapF32(b, heapOffset(b, dbeta), c);
  const r = heapF32(b, heapOffset(b, t.r), c);
  const d = heapF32(b, heapOffset(b, t.d), c);
  for (let j = 0; j < c; j++) {
    const is = invstd[j]!;
    const a = scale[j]! * is;
    const sDy = acc[j]!;
    const sDyXc = acc[c + j]!;
    abk[j] = a;
    abk[c + j] = (-a * is * is * sDyXc) / rows;
    abk[2 * c + j] = (-a * sDy) / rows;
    dbetaOut[j] = sDy;
    dgammaOut[j] = r[j]! * sDyXc * is + d[j]! * sDy;
  }
  k.bwd_dx(heapOffset(b, t.dy), heapOffset(b, t.x), heapOffset(b, dx), rows, c, mp, cp, cp + 4 * c, cp + 8 * c);
  b.disposeData(scratch.dataId);
  b.disposeData(consts.dataId);
  return [dx, dgamma, dbeta];
}
