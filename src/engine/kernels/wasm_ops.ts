// Calls the wasm backend's own kernels from inside our kernels, and frees their intermediate outputs.
import * as tf from '@tensorflow/tfjs';

export type Backend = tf.KernelBackend;
export type Info = tf.TensorInfo;

/** Runs a registered wasm kernel directly (no engine bookkeeping, no tape): a kernel composing kernels. */
export function runWasm(backend: Backend, name: string, inputs: Record<string, Info>, attrs: Record<string, unknown> = {}): Info {
  const kernel = tf.getKernel(name, 'wasm');
  if (!kernel) throw new Error(`wasm kernel ${name} is not registered`);
  const out = kernel.kernelFunc({ inputs, backend, attrs: attrs as tf.NamedAttrMap });
  return Array.isArray(out) ? out[0]! : out;
}

export function free(backend: Backend, ...infos: Info[]): void {
  for (const t of infos) backend.disposeData(t.dataId);
}

export function transpose(backend: Backend, x: Info, perm: number[]): Info {
  return runWasm(backend, 'Transpose', { x }, { perm });
}
