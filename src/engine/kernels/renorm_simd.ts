// The BRN kernels' wasm SIMD paths: the same maths as renorm_kernels.ts' JS loops, run in place on the heap.
import * as tf from '@tensorflow/tfjs';
import { heapF32, heapF64, heapOffset, simdKernels, type SimdKernels } from './simd/index.js';

type WasmBackend = tf.KernelBackend & { makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo };

/**
 * The per-channel kernels read a channel-last tensor as rows of `lanes` values: c itself where c % 4 == 0, else
 * lcm(c, 4), each such row holding lanes / c pixels, whose per-channel values (means, scales) are tiled to match and
 * whose sums are folded back to c. So any channel count runs the SIMD loops without a copy of the tensor, where its
 * pixel count is a multiple of lanes / c (at most 4); else null, as without wasm SIMD.
 */
export function renormSimd(backend: tf.KernelBackend, c: number, size: number): { k: SimdKernels; lanes: number } | null {
  const lanes = c % 4 === 0 ? c : c % 2 === 0 ? 2 * c : 4 * c;
  const k = simdKernels(backend);
  return k && size % lanes === 0 ? { k, lanes } : null;
}

/** `v` (c values) repeated to fill `out` (lanes values). */
function tile(out: Float32Array, v: ArrayLike<number>, c: number): void {
  for (let t = 0; t < out.length; t++) out[t] = v[t % c]!;
}

/** Each channel's sum over the lanes that hold it (lanes j, j + c, ...). */
function fold(acc: Float64Array, at: number, c: number, lanes: number, j: number): number {
  let s = 0;
  for (let t = j; t < lanes; t += c) s += acc[at + t]!;
  return s;
}

export function momentsSimd(k: SimdKernels, backend: tf.KernelBackend, x: tf.TensorInfo, c: number, lanes: number): tf.TensorInfo[] {
  const b = backend as WasmBackend;
  const size = tf.util.sizeFromShape(x.shape);
  const rows = size / lanes;
  const count = size / c;
  const mean = b.makeOutput([c], 'float32');
  const variance = b.makeOutput([c], 'float32');
  const scratch = b.makeOutput([2 * lanes], 'float32'); // lanes float64 accumulators
  const tiled = lanes === c ? mean : b.makeOutput([lanes], 'float32');
  const xp = heapOffset(b, x);
  const sp = heapOffset(b, scratch);
  k.colsum(xp, rows, lanes, sp);
  const acc = heapF64(b, sp, lanes);
  const m = heapF32(b, heapOffset(b, mean), c);
  for (let j = 0; j < c; j++) m[j] = fold(acc, 0, c, lanes, j) / count;
  if (tiled !== mean) tile(heapF32(b, heapOffset(b, tiled), lanes), m, c);
  k.colsqdev(xp, rows, lanes, heapOffset(b, tiled), sp);
  const v = heapF32(b, heapOffset(b, variance), c);
  const acc2 = heapF64(b, sp, lanes);
  for (let j = 0; j < c; j++) v[j] = fold(acc2, 0, c, lanes, j) / count;
  b.disposeData(scratch.dataId);
  if (tiled !== mean) b.disposeData(tiled.dataId);
  return [mean, variance];
}

export function affineSimd(k: SimdKernels, backend: tf.KernelBackend, x: tf.TensorInfo, c: number, lanes: number,
  center: tf.TensorInfo, scale: tf.TensorInfo, offset: tf.TensorInfo): tf.TensorInfo {
  const b = backend as WasmBackend;
  const y = b.makeOutput(x.shape, 'float32');
  const rows = tf.util.sizeFromShape(x.shape) / lanes;
  if (lanes === c) {
    k.affine(heapOffset(b, x), heapOffset(b, y), rows, c, heapOffset(b, center), heapOffset(b, scale), heapOffset(b, offset));
    return y;
  }
  const consts = b.makeOutput([3 * lanes], 'float32'); // center, scale, offset, each tiled
  const cp = heapOffset(b, consts);
  [center, scale, offset].forEach((t, i) => tile(heapF32(b, cp + 4 * i * lanes, lanes), heapF32(b, heapOffset(b, t), c), c));
  k.affine(heapOffset(b, x), heapOffset(b, y), rows, lanes, cp, cp + 4 * lanes, cp + 8 * lanes);
  b.disposeData(consts.dataId);
  return y;
}

export function backwardSimd(k: SimdKernels, backend: tf.KernelBackend, c: number, lanes: number,
  t: { dy: tf.TensorInfo; x: tf.TensorInfo; mean: tf.TensorInfo; invstd: tf.TensorInfo; scale: tf.TensorInfo; r: tf.TensorInfo; d: tf.TensorInfo }): tf.TensorInfo[] {
  const b = backend as WasmBackend;
  const size = tf.util.sizeFromShape(t.x.shape);
  const rows = size / lanes;
  const count = size / c;
  const dx = b.makeOutput(t.x.shape, 'float32');
  const dgamma = b.makeOutput([c], 'float32');
  const dbeta = b.makeOutput([c], 'float32');
  const scratch = b.makeOutput([4 * lanes], 'float32'); // 2 * lanes float64 sums
  const consts = b.makeOutput([3 * lanes], 'float32'); // A, B, K per lane
  const tiled = lanes === c ? t.mean : b.makeOutput([lanes], 'float32');
  const sp = heapOffset(b, scratch);
  const cp = heapOffset(b, consts);
  const mp = heapOffset(b, tiled);
  if (tiled !== t.mean) tile(heapF32(b, mp, lanes), heapF32(b, heapOffset(b, t.mean), c), c);
  k.colsum_dy_dyxc(heapOffset(b, t.dy), heapOffset(b, t.x), rows, lanes, mp, sp);
  const acc = heapF64(b, sp, 2 * lanes);
  const invstd = heapF32(b, heapOffset(b, t.invstd), c);
  const scale = heapF32(b, heapOffset(b, t.scale), c);
  const abk = heapF32(b, cp, 3 * lanes);
  const dgammaOut = heapF32(b, heapOffset(b, dgamma), c);
  const dbetaOut = heapF32(b, heapOffset(b, dbeta), c);
  const r = heapF32(b, heapOffset(b, t.r), c);
  const d = heapF32(b, heapOffset(b, t.d), c);
  for (let j = 0; j < c; j++) {
    const is = invstd[j]!;
    const a = scale[j]! * is;
    const sDy = fold(acc, 0, c, lanes, j);
    const sDyXc = fold(acc, lanes, c, lanes, j);
    for (let l = j; l < lanes; l += c) {
      abk[l] = a;
      abk[lanes + l] = (-a * is * is * sDyXc) / count;
      abk[2 * lanes + l] = (-a * sDy) / count;
    }
    dbetaOut[j] = sDy;
    dgammaOut[j] = r[j]! * sDyXc * is + d[j]! * sDy;
  }
  k.bwd_dx(heapOffset(b, t.dy), heapOffset(b, t.x), heapOffset(b, dx), rows, lanes, mp, cp, cp + 4 * lanes, cp + 8 * lanes);
  b.disposeData(scratch.dataId);
  b.disposeData(consts.dataId);
  if (tiled !== t.mean) b.disposeData(tiled.dataId);
  return [dx, dgamma, dbeta];
}
