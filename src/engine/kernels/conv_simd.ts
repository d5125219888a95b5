// Conv2D and its filter gradient as our wasm SIMD loops (simd/kernels.wat), run in place on the backend's heap (the
// input gradient is a Conv2D: conv2d_grad.ts).
// XNNPACK builds an operator and packs the filter whenever the filter tensor is new, which in training is every
// call (the weights change each step, and a gradient's "filter" is dy or the rotated weights); these loops read
// the filter as it lies, so nothing is created or packed per call.
import * as tf from '@tensorflow/tfjs';
import { type Backend, type HeapBackend, type Info, free } from './wasm_ops.js';
import { type SimdKernels, heapF32, heapOffset, heapU8 } from './simd/index.js';
import { regrouped, widened } from './channel_groups.js';

/**
 * A stride-1, undilated convolution: x [n,h,w,c] zero-padded by (pt, pl) to [n, oh+kh-1, ow+kw-1, c], then
 * `conv_s1` with weights `wt` laid out [kh, kw, c, co] (a Conv2D filter's own layout). Needs ow >= 4; where
 * co % 4 != 0 the filter is widened with zero channels and the output narrowed back (two copies, far cheaper than
 * the stock kernel's packing: src/engine/README.md).
 */
export function convS1Simd(simd: SimdKernels, backend: Backend, x: Info, wt: Info, oh: number, ow: number,
  pt: number, pl: number): Info {
  const b = backend as HeapBackend;
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const [kh, kw, , co] = wt.shape as [number, number, number, number];
  const co4 = widened(co);
  const hp = oh + kh - 1;
  const wp = ow + kw - 1;
  const xp = b.makeOutput([n, hp, wp, c], 'float32');
  simd.pad_nhwc(heapOffset(b, x), heapOffset(b, xp), n, h, w, c, hp, wp, pt, pl);
  const w4 = co4 === co ? wt : regrouped(simd, b, wt, [kh, kw, c, co4], kh * kw * c, co, co4);
  const y = b.makeOutput([n, oh, ow, co4], 'float32');
  simd.conv_s1(heapOffset(b, xp), heapOffset(b, w4), heapOffset(b, y), n, oh, ow, c, co4, kh, kw);
  free(b, xp);
  if (co4 === co) return y;
  free(b, w4);
  const narrow = regrouped(simd, b, y, [n, oh, ow, co], n * oh * ow, co4, co);
  free(b, y);
  return narrow;
}

/**
 * dW [kh,kw,ci,co] by `conv_wgrad`: for each kernel row, a [kw*ci, P] x [P, co] product over the P = n*oh*ow
 * output positions, read in place from the zero-padded input, 4 x 8 blocks held in registers. Any stride; needs
 * at least one output position. Where co % 4 != 0, dy is widened with zero channels and dW narrowed back.
 */
export function filterGradSimd(simd: SimdKernels, backend: Backend, x: Info, dy: Info, info: tf.backend_util.Conv2DInfo,
  filterShape: [number, number, number, number]): Info {
  const b = backend as HeapBackend;
  const [kh, kw, c, co] = filterShape;
  const co4 = widened(co);
  if (co4 !== co) {
    const p = info.batchSize * info.outHeight * info.outWidth;
    const dy4 = regrouped(simd, b, dy, [p, co4], p, co, co4);
    const dw4 = filterGradSimd(simd, backend, x, dy4, info, [kh, kw, c, co4]);
    free(b, dy4);
    const dw = regrouped(simd, b, dw4, filterShape, kh * kw * c, co4, co);
    free(b, dw4);
    return dw;
  }
  const { batchSize: n, inHeight: h, inWidth: w, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
  // The rows and columns the strided grid reaches: the rest are cropped, any shortfall is zero padding.
  const hp = kh + (oh - 1) * sh;
  const wp = kw + (ow - 1) * sw;
  // 4 floats of slack: the last block of 4 rows may read past a (kw, ci) run.
  const size = n * hp * wp * c;
  const xp = b.makeOutput([size + 4], 'float32');
  simd.pad_nhwc(heapOffset(b, x), heapOffset(b, xp), n, h, w, c, hp, wp, info.padInfo.top, info.padInfo.left);
  heapF32(b, heapOffset(b, xp) + 4 * size, 4).fill(0);
  const rows = kw * c;
  const lp = Math.ceil(rows / 4) * 4; // rows >= kw*c in each kernel row's block are scratch
  const out = b.makeOutput(lp === rows ? filterShape : [kh * lp * co], 'float32');
  simd.conv_wgrad(heapOffset(b, xp), heapOffset(b, dy), heapOffset(b, out), n, hp, wp, c, oh, ow, co, kh, lp, sh, sw);
  free(b, xp);
  if (lp === rows) return out;
  const dw = b.makeOutput(filterShape, 'float32');
  const heap = heapU8(b);
  const src = heapOffset(b, out);
  const dst = heapOffset(b, dw);
  const bytes = rows * co * 4;
  for (let k = 0; k < kh; k++) heap.copyWithin(dst + k * bytes, src + k * lp * co * 4, src + k * lp * co * 4 + bytes);
  free(b, out);
  return dw;
}
