// Slice for wasm without the stock kernel's copy of the whole input (readSync) before taking a contiguous part.
import * as tf from '@tensorflow/tfjs';
import { type KernelArgs, callKernel } from './wasm_ops.js';

type WasmBackend = tf.KernelBackend & {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
};

/**
 * A batch slice of a large tensor (e.g. rows of an evaluation set) is contiguous: copy just those elements,
 * heap to heap. Everything else goes to the stock kernel.
 */
export function makeSliceWasm(stock: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo => {
    const x = args.inputs['x']!;
    const { begin, size } = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
    if (x.dtype !== 'string') {
      const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
      if (tf.slice_util.isSliceContinous(x.shape, b, s)) {
        const backend = args.backend as WasmBackend;
        const out = backend.makeOutput(s, x.dtype);
        const start = tf.slice_util.computeFlatOffset(b, tf.util.computeStrides(x.shape));
        const src = backend.typedArrayFromHeap(x); // views taken after the allocation above
        backend.typedArrayFromHeap(out).set(src.subarray(start, start + tf.util.sizeFromShape(s)));
        return out;
      }
    }
    return callKernel(stock, args);
  };
}
