// Conv2D gradients for the wasm backend: our SIMD loops, else (no wasm SIMD in this engine) composed from the
// backend's forward Conv2D (XNNPACK) plus transposes.
import * as tf from '@tensorflow/tfjs';
import { type HeapBackend, type Info, type KernelArgs, callKernel, free, runWasm, transpose } from './wasm_ops.js';
import { heapF32, heapOffset, simdKernels } from './simd/index.js';
import { filterGradSimd } from './conv_simd.js';

type Pad = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];

interface FilterGradAttrs {
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

interface InputGradAttrs {
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: [number, number, number, number];
}

function requireNHWC(kernel: string, dataFormat: string | undefined): void {
  if (dataFormat === 'NCHW') throw new Error(`${kernel} on wasm supports NHWC only (got NCHW)`);
}

/**
 * dW[kh,kw,ci,co] = sum over n,oh,ow of xpad[n, oh*s+kh, ow*s+kw, ci] * dy[n,oh,ow,co]. Our SIMD loop computes
 * it straight from the padded input (`conv_wgrad` in simd/kernels.wat: for each kernel row, a [kw*ci, P] x [P, co]
 * product read in place, 4 x 8 blocks held in registers; co % 4 != 0 widened). Without wasm SIMD it is a forward
 * convolution of x laid out as [ci, h, w, n] (batch = ci, channels = n) with dy laid out as [oh, ow, n, co]
 * as the filter, dilated by the original stride: XNNPACK turns it into one GEMM.
 */
export function conv2DBackpropFilterWasm(args: KernelArgs): Info {
  const { inputs, backend } = args;
  const attrs = args.attrs as unknown as FilterGradAttrs;
  requireNHWC('Conv2DBackpropFilter', attrs.dataFormat);
  const x = inputs['x']!;
  const dy = inputs['dy']!;
  const [kh, kw] = attrs.filterShape;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode,
  );
  const { strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow, inHeight: h, inWidth: w } = info;
  const simd = info.batchSize * oh * ow * attrs.filterShape[3] > 0 ? simdKernels(backend) : null;
  if (simd) return filterGradSimd(simd, backend, x, dy, info, attrs.filterShape);
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  // Rows/cols the filter grid actually touches; anything beyond is cropped, any shortfall is zero padding.
  const needH = kh + (oh - 1) * sh;
  const needW = kw + (ow - 1) * sw;
  const pb = needH - h - pt;
  const pr = needW - w - pl;
  let xt = transpose(backend, x, [3, 1, 2, 0]);
  if (pb < 0 || pr < 0) {
    const cropped = runWasm(backend, 'Slice', { x: xt }, {
      begin: [0, 0, 0, 0],
      size: [xt.shape[0]!, h + Math.min(pb, 0), w + Math.min(pr, 0), xt.shape[3]!],
    });
    free(backend, xt);
    xt = cropped;
  }
  const dyt = transpose(backend, dy, [1, 2, 0, 3]);
  const g = runWasm(backend, 'Conv2D', { x: xt, filter: dyt }, {
    strides: [1, 1],
    pad: [[0, 0], [pt, Math.max(pb, 0)], [pl, Math.max(pr, 0)], [0, 0]],
    dataFormat: 'NHWC',
    dilations: [sh, sw],
  });
  free(backend, xt, dyt);
  const out = transpose(backend, g, [1, 2, 0, 3]);
  free(backend, g);
  return out;
}

/**
 * The filter [kh, kw, ci, co] rotated 180 degrees with its in and out channels swapped: [kh, kw, co, ci]. One JS
 * pass over the heap; the backend's Reverse and Transpose kernels took twice as long as the whole dx convolution.
 */
function rotatedFilter(backend: HeapBackend, filter: Info): Info {
  const [kh, kw, ci, co] = filter.shape as [number, number, number, number];
  const wt = backend.makeOutput([kh, kw, co, ci], 'float32');
  const f = heapF32(backend, heapOffset(backend, filter), kh * kw * ci * co);
  const t = heapF32(backend, heapOffset(backend, wt), kh * kw * ci * co);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      const src = ((kh - 1 - y) * kw + (kw - 1 - x)) * ci * co;
      const dst = (y * kw + x) * co * ci;
      for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) t[dst + o * ci + i] = f[src + i * co + o]!;
    }
  }
  return wt;
}

/**
 * For stride 1, dx is a forward convolution of dy with the filter rotated 180 degrees and its in/out channels
 * swapped, padded by k-1-pad: the registered Conv2D (ours, `conv2d.ts`, where dx is at least 4 wide) runs that
 * as fast as the forward pass, unlike the stock wasm kernel's direct loop. Other strides keep the stock kernel
 * (`fallback`).
 */
export function makeConv2DBackpropInputWasm(fallback: tf.KernelFunc) {
  return (args: KernelArgs): Info => {
    const { inputs, backend } = args;
    const attrs = args.attrs as unknown as InputGradAttrs;
    requireNHWC('Conv2DBackpropInput', attrs.dataFormat);
    const dy = inputs['dy']!;
    const filter = inputs['filter']!;
    const [kh, kw] = filter.shape as [number, number, number, number];
    const info = tf.backend_util.computeConv2DInfo(
      attrs.inputShape, filter.shape as [number, number, number, number], attrs.strides, 1, attrs.pad, attrs.dimRoundingMode,
    );
    const ptT = kh - 1 - info.padInfo.top;
    const plT = kw - 1 - info.padInfo.left;
    const pbT = info.inHeight - info.outHeight - ptT + kh - 1;
    const prT = info.inWidth - info.outWidth - plT + kw - 1;
    if (info.strideHeight !== 1 || info.strideWidth !== 1 || ptT < 0 || plT < 0 || pbT < 0 || prT < 0) {
      return callKernel(fallback, args);
    }
    const wt = rotatedFilter(backend as HeapBackend, filter);
    const dx = runWasm(backend, 'Conv2D', { x: dy, filter: wt }, {
      strides: [1, 1],
      pad: [[0, 0], [ptT, pbT], [plT, prT], [0, 0]],
      dataFormat: 'NHWC',
      dilations: [1, 1],
    });
    free(backend, wt);
    return dx;
  };
}
