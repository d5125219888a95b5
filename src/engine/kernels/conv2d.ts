// Conv2D and FusedConv2D for wasm: our SIMD loop for stride-1 undilated NHWC convolutions at least 4 wide, else the stock kernel.
import * as tf from '@tensorflow/tfjs';
import { type Info, type KernelArgs, callKernel } from './wasm_ops.js';
import { type SimdKernels, simdKernels } from './simd/index.js';
import { type Epilogue, applyEpilogue, plainBias } from './fused_epilogue.js';
import { convS1Simd } from './conv_simd.js';

interface Conv2DAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];
  dataFormat?: 'NHWC' | 'NCHW';
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** The convolution's geometry when our loop takes it (NHWC float32, stride 1, undilated, ow >= 4), else null. */
function planS1(args: KernelArgs): tf.backend_util.Conv2DInfo | null {
  const attrs = args.attrs as unknown as Conv2DAttrs;
  const x = args.inputs['x']!;
  const filter = args.inputs['filter']!;
  if (attrs.dataFormat === 'NCHW' || x.dtype !== 'float32' || filter.dtype !== 'float32') return null;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filter.shape as [number, number, number, number], attrs.strides,
    attrs.dilations ?? 1, attrs.pad, attrs.dimRoundingMode,
  );
  const plain = info.strideHeight === 1 && info.strideWidth === 1 && info.dilationHeight === 1 && info.dilationWidth === 1;
  return plain && info.outWidth >= 4 && info.batchSize * info.outHeight * info.outChannels > 0 ? info : null;
}

function convS1(simd: SimdKernels, args: KernelArgs, info: tf.backend_util.Conv2DInfo): Info {
  return convS1Simd(simd, args.backend, args.inputs['x']!, args.inputs['filter']!, info.outHeight, info.outWidth, info.padInfo.top, info.padInfo.left);
}

/**
 * Faster than XNNPACK here even with its filter packed once (an evaluation pass), and it does not pack the
 * changed weights again on every training step (measured in src/engine/README.md).
 */
export function makeConv2DWasm(stock: tf.KernelFunc) {
  return (args: KernelArgs): Info => {
    const info = planS1(args);
    const simd = info ? simdKernels(args.backend) : null;
    return simd && info ? convS1(simd, args, info) : callKernel(stock, args);
  };
}

/**
 * tfjs-layers' Conv2D layer calls FusedConv2D (`model.apply` and `predict`, where `forward` does not run the layers
 * itself: a model that is not a plain chain): our loop, then its bias and activation, where the convolution is ours
 * and the bias has one value per output channel.
 */
export function makeFusedConv2DWasm(stock: tf.KernelFunc) {
  return (args: KernelArgs): Info => {
    const { bias, preluActivationWeights } = args.inputs as { bias?: Info; preluActivationWeights?: Info };
    const { activation, leakyreluAlpha } = args.attrs as unknown as Epilogue;
    const info = planS1(args);
    const simd = info && plainBias(bias, info.outChannels) ? simdKernels(args.backend) : null;
    if (!simd || !info) return callKernel(stock, args);
    const rows = info.batchSize * info.outHeight * info.outWidth;
    return applyEpilogue(args.backend, convS1(simd, args, info), rows, info.outChannels, { bias, activation, leakyreluAlpha, preluActivationWeights });
  };
}
