// Instantiates the SIMD kernels on the wasm backend's own memory, so they read and write tensors in place.
import * as tf from '@tensorflow/tfjs';
import { SIMD_KERNELS_WASM } from './binary.js';

export interface SimdKernels {
  colsum(x: number, rows: number, c: number, acc: number): void;
  colsqdev(x: number, rows: number, c: number, mean: number, acc: number): void;
  affine(x: number, y: number, rows: number, c: number, mu: number, a: number, b: number): void;
  colsum_dy_dyxc(dy: number, x: number, rows: number, c: number, mean: number, acc: number): void;
  bwd_dx(dy: number, x: number, dx: number, rows: number, c: number, mean: number, A: number, B: number, K: number): void;
  maxpool2_grad(x: number, dy: number, dx: number, n: number, h: number, w: number, c: number): void;
  adam(w: number, g: number, m: number, v: number, w2: number, m2: number, v2: number, n: number,
    b1: number, b2: number, lrc1: number, ic2: number, eps: number): void;
  pad_nhwc(x: number, out: number, n: number, h: number, w: number, c: number, hp: number, wp: number, pt: number, pl: number): void;
  regroup(src: number, dst: number, rows: number, from: number, to: number): void;
  conv_wgrad(xp: number, dy: number, out: number, n: number, hp: number, wp: number, c: number, oh: number, ow: number,
    co: number, kh: number, lp: number, sh: number, sw: number): void;
  gemm(a: number, b: number, c: number, m: number, k: number, n: number, sam: number, sak: number): void;
  conv_s1(xp: number, wt: number, out: number, n: number, oh: number, ow: number, c: number, co: number, kh: number, kw: number): void;
}

interface WasmBackendInternals {
  wasm: { asm?: { memory?: WebAssembly.Memory }; HEAPU8: Uint8Array };
  dataIdMap: { get(id: tf.DataId): { memoryOffset: number } };
}

let cached: { backend: tf.KernelBackend; kernels: SimdKernels | null } | null = null;

/** The SIMD kernels bound to this wasm backend's heap, or null where the heap or SIMD is unavailable. */
export function simdKernels(backend: tf.KernelBackend): SimdKernels | null {
  if (cached?.backend === backend) return cached.kernels;
  const memory = (backend as unknown as WasmBackendInternals).wasm?.asm?.memory;
  // Not the wasm backend (cpu, say): nothing to cache, so the wasm backend's instance stays cached beside it.
  if (!(memory instanceof WebAssembly.Memory)) return null;
  let kernels: SimdKernels | null = null;
  try {
    const bytes = Uint8Array.from(Buffer.from(SIMD_KERNELS_WASM, 'base64'));
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    kernels = instance.exports as unknown as SimdKernels;
  } catch {
    kernels = null; // no SIMD in this engine: callers use their JS loops
  }
  cached = { backend, kernels };
  return kernels;
}

/** Byte offset of a wasm-backend tensor in the heap the SIMD kernels share. */
export function heapOffset(backend: tf.KernelBackend, t: tf.TensorInfo): number {
  return (backend as unknown as WasmBackendInternals).dataIdMap.get(t.dataId).memoryOffset;
}

export function heapF64(backend: tf.KernelBackend, offset: number, length: number): Float64Array {
  return new Float64Array((backend as unknown as WasmBackendInternals).wasm.HEAPU8.buffer, offset, length);
}

export function heapU8(backend: tf.KernelBackend): Uint8Array {
  return (backend as unknown as WasmBackendInternals).wasm.HEAPU8;
}

export function heapF32(backend: tf.KernelBackend, offset: number, length: number): Float32Array {
  return new Float32Array((backend as unknown as WasmBackendInternals).wasm.HEAPU8.buffer, offset, length);
}
