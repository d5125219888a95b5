// Conv2D gradients for the wasm backend: our SIMD loops where the channels allow, else composed from the
// backend's forward Conv2D (XNNPACK) plus transposes.
import * as tf from '@tensorflow/tfjs';
import { type Backend, type Info, type KernelArgs, callKernel, free, runWasm, transpose } from './wasm_ops.js';
import { simdKernels } from './simd/index.js';
import { filterGradSimd, inputGradSimd } from './conv_simd.js';

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
 * dW[kh,kw,ci,co] = sum over n,oh,ow of xpad[n, oh*s+kh, ow*s+kw, ci] * dy[n,oh,ow,co]. Where co % 4 == 0 our
 * SIMD loop computes it straight from the padded input (`conv_wgrad` in simd/kernels.wat: for each kernel row, a
 * [kw*ci, P] x [P, co] product read in place, 4 x 8 blocks held in registers). Otherwise it is a forward
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
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  // Rows/cols the filter grid actually touches; anything beyond is cropped, any shortfall is zero padding.
  const needH = kh + (oh - 1) * sh;
  const needW = kw + (ow - 1) * sw;
  const pb = needH - h - pt;
  const pr = needW - w - pl;
  const simd = attrs.filterShape[3] % 4 === 0 && info.batchSize * oh * ow > 0 ? simdKernels(backend) : null;
  if (simd) return filterGradSimd(simd, backend, x, dy, info, attrs.filterShape);
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
 * For stride 1, dx is a forward convolution of dy with the filter rotated 180 degrees and its in/out channels
 * swapped, padded by k-1-pad. XNNPACK runs that as fast as the forward pass, unlike the stock wasm kernel's
 * direct loop. Other strides keep the stock kernel (`fallback`).
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
    const simd = filter.shape[2]! % 4 === 0 && info.inWidth >= 4 ? simdKernels(backend) : null;
    if (simd) return inputGradSimd(simd, backend, dy, filter, info, ptT, plT);
    const rotated = runWasm(backend, 'Reverse', { x: filter }, { dims: [0, 1] });
    const wt = transpose(backend, rotated, [0, 1, 3, 2]);
    free(backend, rotated);
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
