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

/**
 * x86's family and model numbers from /proc/cpuinfo ("family 25 model 17"), or null. A virtual machine may name its
 * CPU only "AMD EPYC": the numbers still tell one generation from another (25/17 is Zen 4), whose speeds differ.
 */
export function modelNumbers(cpuinfo: string): string | null {
  const family = /^cpu family\s*:\s*(\d+)/m.exec(cpuinfo)?.[1];
  const model = /^model\s*:\s*(\d+)/m.exec(cpuinfo)?.[1];
  return family !== undefined && model !== undefined ? `family ${family} model ${model}` : null;
}

/** E.g. "AMD EPYC (family 25 model 17), 2 cores, AVX-512". */
export function cpuDescription(): string {
  const all = cpus();
  let vectors: string | null = null;
  let numbers: string | null = null;
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    vectors = vectorExtensions(info);
    numbers = modelNumbers(info);
  } catch {
    // not Linux: the model alone
  }
  const name = all[0]?.model.trim() || 'unknown CPU';
  return [numbers ? `${name} (${numbers})` : name, `${all.length} cores`, vectors].filter(Boolean).join(', ');
}
