// Conv2D for wasm: our SIMD loop for stride-1 undilated NHWC convolutions with co % 4 == 0, else the stock kernel.
import * as tf from '@tensorflow/tfjs';
import { type Info, type KernelArgs, callKernel } from './wasm_ops.js';
import { simdKernels } from './simd/index.js';
import { convS1Simd } from './conv_simd.js';

interface Conv2DAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];
  dataFormat?: 'NHWC' | 'NCHW';
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * Faster than XNNPACK here even with its filter packed once (an evaluation pass), and it does not pack the
 * changed weights again on every training step (measured in src/engine/README.md).
 */
export function makeConv2DWasm(stock: tf.KernelFunc) {
  return (args: KernelArgs): Info => {
    const attrs = args.attrs as unknown as Conv2DAttrs;
    const x = args.inputs['x']!;
    const filter = args.inputs['filter']!;
    if (attrs.dataFormat !== 'NCHW' && x.dtype === 'float32' && filter.dtype === 'float32') {
      const info = tf.backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number], filter.shape as [number, number, number, number], attrs.strides,
        attrs.dilations ?? 1, attrs.pad, attrs.dimRoundingMode,
      );
      const plain = info.strideHeight === 1 && info.strideWidth === 1 && info.dilationHeight === 1 && info.dilationWidth === 1;
      const simd = plain && info.outChannels % 4 === 0 && info.outWidth >= 4 && info.batchSize * info.outHeight > 0
        ? simdKernels(args.backend) : null;
      if (simd) return convS1Simd(simd, args.backend, x, filter, info.outHeight, info.outWidth, info.padInfo.top, info.padInfo.left);
    }
    return callKernel(stock, args);
  };
}
