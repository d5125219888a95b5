// Calls the wasm backend's own kernels from inside our kernels, and frees their intermediate outputs.
import * as tf from '@tensorflow/tfjs';

export type Backend = tf.KernelBackend;
export type Info = tf.TensorInfo;

/** The wasm backend as our kernels use it: outputs allocated on its heap. */
export type HeapBackend = Backend & { makeOutput(shape: number[], dtype: 'float32'): Info };

export type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: Backend; attrs: tf.NamedAttrMap };

/** Calls a kernel function (a stock one we wrap, say) and returns its one output. */
export function callKernel(kernel: tf.KernelFunc, args: KernelArgs): Info {
  const out = kernel(args as unknown as Parameters<tf.KernelFunc>[0]);
  return Array.isArray(out) ? out[0]! : out;
}

/** Runs a registered wasm kernel directly (no engine bookkeeping, no tape): a kernel composing kernels. */
export function runWasm(backend: Backend, name: string, inputs: Record<string, Info>, attrs: Record<string, unknown> = {}): Info {
  const kernel = tf.getKernel(name, 'wasm');
  if (!kernel) throw new Error(`wasm kernel ${name} is not registered`);
  return callKernel(kernel.kernelFunc, { inputs, backend, attrs: attrs as tf.NamedAttrMap });
}

export function free(backend: Backend, ...infos: Info[]): void {
  for (const t of infos) backend.disposeData(t.dataId);
}

export function transpose(backend: Backend, x: Info, perm: number[]): Info {
  return runWasm(backend, 'Transpose', { x }, { perm });
}
