// MaxPoolGrad for wasm: a SIMD loop for 2x2 windows of stride 2 (any channel count), else JS over the heap: the
// stock kernel rescans every window per output and is ~30x slower.
import * as tf from '@tensorflow/tfjs';
import { withViews } from './heap.js';
import { heapF32, heapOffset, simdKernels } from './simd/index.js';
import { regrouped, widened } from './channel_groups.js';
import { type HeapBackend, free } from './wasm_ops.js';

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
  const simd = simdKernels(backend); // wasm with SIMD: any channel count, widened to a multiple of 4
  if (simd && fh === 2 && fw === 2 && strideHeight === 2 && strideWidth === 2 && pt === 0 && pl === 0 &&
      outHeight === inHeight >> 1 && outWidth === inWidth >> 1) {
    const b = backend as HeapBackend;
    const c4 = widened(c);
    const pixels = batchSize * inHeight * inWidth;
    const x4 = c4 === c ? input : regrouped(simd, b, input, [batchSize, inHeight, inWidth, c4], pixels, c, c4);
    const dy4 = c4 === c ? dy : regrouped(simd, b, dy, [batchSize, outHeight, outWidth, c4], batchSize * outHeight * outWidth, c, c4);
    const out = b.makeOutput([batchSize, inHeight, inWidth, c4], 'float32');
    if (inHeight % 2 || inWidth % 2) {
      // Rows/columns no window covers get no gradient; the SIMD loop writes only covered pixels.
      heapF32(backend, heapOffset(backend, out), pixels * c4).fill(0);
    }
    simd.maxpool2_grad(heapOffset(backend, x4), heapOffset(backend, dy4), heapOffset(backend, out), batchSize, inHeight, inWidth, c4);
    if (c4 === c) return out;
    free(b, x4, dy4);
    const dx = regrouped(simd, b, out, input.shape, pixels, c4, c);
    free(b, out);
    return dx;
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
