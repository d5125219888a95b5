// MaxPoolGrad for wasm in JS over the heap: the stock kernel rescans every window per output and is ~30x slower.
import * as tf from '@tensorflow/tfjs';
import { withViews } from './heap.js';
import { heapF32, heapOffset } from './simd/index.js';
import { simdFor } from './renorm_simd.js';

type Args = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap };

/**
 * Routes each dy to the first maximum of its window (TensorFlow's tie rule), recomputing the argmax from
 * the forward input. Pads act as -Infinity, so they never win.
 */
export function maxPoolGradJs({ inputs, backend, attrs }: Args): tf.TensorInfo {
  const dy = inputs['dy']!;
  const input = inputs['input']!;
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as {
    filterSize: number | [number, number];
    strides: number | [number, number];
    pad: 'valid' | 'same' | number;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode,
  );
  const { batchSize, inHeight, inWidth, inChannels: c, outHeight, outWidth, strideHeight, strideWidth } = info;
  const fh = info.effectiveFilterHeight;
  const fw = info.effectiveFilterWidth;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const simd = simdFor(backend, c);
  if (simd && fh === 2 && fw === 2 && strideHeight === 2 && strideWidth === 2 && pt === 0 && pl === 0 &&
      outHeight === inHeight >> 1 && outWidth === inWidth >> 1) {
    const out = (backend as unknown as { makeOutput(s: number[], d: 'float32'): tf.TensorInfo }).makeOutput(input.shape, 'float32');
    if (inHeight % 2 || inWidth % 2) {
      // Rows/columns no window covers get no gradient; the SIMD loop writes only covered pixels.
      heapF32(backend, heapOffset(backend, out), tf.util.sizeFromShape(input.shape)).fill(0);
    }
    simd.maxpool2_grad(heapOffset(backend, input), heapOffset(backend, dy), heapOffset(backend, out), batchSize, inHeight, inWidth, c);
    return out;
  }
  const { outs, ins, outViews } = withViews(backend, [dy, input], [input.shape]);
  const [g, x] = ins as [Float32Array, Float32Array];
  const dx = outViews[0]!;
  dx.fill(0);
  const rowStride = inWidth * c;
  const imgStride = inHeight * rowStride;
  let gi = 0;
  for (let n = 0; n < batchSize; n++) {
    const base = n * imgStride;
    for (let oh = 0; oh < outHeight; oh++) {
      const h0 = Math.max(0, oh * strideHeight - pt);
      const h1 = Math.min(inHeight, oh * strideHeight - pt + fh);
      for (let ow = 0; ow < outWidth; ow++) {
        const w0 = Math.max(0, ow * strideWidth - pl);
        const w1 = Math.min(inWidth, ow * strideWidth - pl + fw);
        for (let ch = 0; ch < c; ch++, gi++) {
          let best = -Infinity;
          let at = -1;
          for (let h = h0; h < h1; h++) {
            for (let w = w0; w < w1; w++) {
              const idx = base + h * rowStride + w * c + ch;
              const v = x[idx]!;
              if (v > best || at < 0) {
                best = v;
                at = idx;
              }
            }
          }
          if (at >= 0) dx[at] += g[gi]!;
        }
      }
    }
  }
  return outs[0]!;
}
