// What CPU a benchmark ran on, in one line for its output: the model and the widest x86 vector instructions it has.
// Speed ratios against native code depend on it: PyTorch's oneDNN kernels use AVX-512 where the CPU has it, while
// wasm SIMD is 128 bits wide on every CPU.
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** The widest of AVX-512, AVX2 and AVX that /proc/cpuinfo lists (Linux x86), or null where it cannot be read. */
export function vectorExtensions(cpuinfo: string): string | null {
  const flags = /^flags\s*:(.*)$/m.exec(cpuinfo)?.[1]?.split(/\s+/) ?? [];
  if (flags.includes('avx512f')) return 'AVX-512';
  if (flags.includes('avx2')) return 'AVX2';
  if (flags.includes('avx')) return 'AVX';
  return null;
}

/** E.g. "AMD EPYC, 2 cores, AVX-512". */
export function cpuDescription(): string {
  const all = cpus();
  let vectors: string | null = null;
  try {
    vectors = vectorExtensions(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    // not Linux: the model alone
  }
  return [all[0]?.model.trim() || 'unknown CPU', `${all.length} cores`, vectors].filter(Boolean).join(', ');
}
