// Zero-copy float32 views of tensor data for JS kernels, on the wasm heap or in the cpu backend's store.
import * as tf from '@tensorflow/tfjs';

type WasmLike = tf.KernelBackend & {
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
};
type CpuLike = tf.KernelBackend & {
  data: { get(id: tf.DataId): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: 'float32', values?: Float32Array): tf.TensorInfo;
};

function isWasm(b: tf.KernelBackend): b is WasmLike {
  return typeof (b as Partial<WasmLike>).typedArrayFromHeap === 'function';
}

/**
 * Allocates `shapes.length` float32 outputs, then returns views of `inputs` and outputs. Views are taken after
 * every allocation because a wasm allocation can grow (and so detach) the heap.
 */
export function withViews(
  backend: tf.KernelBackend,
  inputs: tf.TensorInfo[],
  shapes: number[][],
): { outs: tf.TensorInfo[]; ins: Float32Array[]; outViews: Float32Array[] } {
  for (const t of inputs) {
    if (t.dtype !== 'float32') throw new Error(`JS kernel expects float32 inputs, got ${t.dtype}`);
  }
  if (isWasm(backend)) {
    const outs = shapes.map((s) => backend.makeOutput(s, 'float32'));
    return {
      outs,
      ins: inputs.map((t) => backend.typedArrayFromHeap(t)),
      outViews: outs.map((t) => backend.typedArrayFromHeap(t)),
    };
  }
  const cpu = backend as CpuLike;
  const outViews = shapes.map((s) => new Float32Array(tf.util.sizeFromShape(s)));
  const outs = shapes.map((s, i) => cpu.makeTensorInfo(s, 'float32', outViews[i]));
  const ins = inputs.map((t) => {
    const v = cpu.data.get(t.dataId).values;
    if (!(v instanceof Float32Array)) throw new Error('cpu tensor has no float32 values');
    return v;
  });
  return { outs, ins, outViews };
}
