// Channel counts that are not a multiple of 4 for the SIMD loops, which work on 4 channels at a time: a tensor's
// channels widened with zero channels to the next multiple, and a result narrowed back, by one SIMD copy each.
import type { HeapBackend, Info } from './wasm_ops.js';
import { type SimdKernels, heapOffset } from './simd/index.js';

/** `c` rounded up to a multiple of 4. */
export function widened(c: number): number {
  return Math.ceil(c / 4) * 4;
}

/**
 * `src` read as `rows` rows of `from` channels, copied into a new tensor of `shape` as rows of `to`: the first
 * min(from, to) channels of each row, zeros after them when widened (`regroup` in simd/kernels.wat).
 */
export function regrouped(simd: SimdKernels, b: HeapBackend, src: Info, shape: number[], rows: number, from: number, to: number): Info {
  const out = b.makeOutput(shape, 'float32');
  simd.regroup(heapOffset(b, src), heapOffset(b, out), rows, from, to);
  return out;
}
