// Checkers for untrusted study-config JSON: each failure is a ConfigError naming the dotted field and how to fix it.
import { ConfigError } from '../../errors.js';

export type Json = Record<string, unknown>;

export function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  try {
    const s = JSON.stringify(v);
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return String(v);
  }
}

export function object(raw: unknown, field: string, fix = 'give a JSON object'): Json {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(field, `must be an object, got ${show(raw)}`, fix);
  return raw as Json;
}

/** Levenshtein distance, for "did you mean": config keys are short, so the O(n·m) table is nothing. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = Math.min(up + 1, row[j - 1]! + 1, diag + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length]!;
}

/** The allowed name closest to `key`, if close enough to be a typo (a third of its length, at least 2 edits). */
export function closest(key: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const a of allowed) {
    const d = editDistance(key, a);
    if (d < bestD) [best, bestD] = [a, d];
  }
  return bestD <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/** Unknown keys are almost always typos (`budjet`), and silently ignoring one runs a study the user did not ask for. */
export function rejectUnknown(obj: Json, path: string, allowed: readonly string[]): void {
  for (const key of Object.keys(obj)) {
    if (allowed.includes(key)) continue;
    const near = closest(key, allowed);
    throw new ConfigError(join(path, key), 'unknown field', near ? `did you mean '${near}'?` : `remove it; allowed fields are ${allowed.join(', ')}`);
  }
}

export function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

export function int(raw: unknown, field: string, lo: number, hi = Number.MAX_SAFE_INTEGER): number {
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < lo || raw > hi) {
    const range = hi === Number.MAX_SAFE_INTEGER ? `>= ${lo}` : `in [${lo}, ${hi}]`;
    throw new ConfigError(field, `must be an integer ${range}, got ${show(raw)}`, `set an integer ${range}`);
  }
  return raw;
}

/** A finite number strictly above `lo` (durations, sizes). */
export function positive(raw: unknown, field: string, lo = 0): number {
  if (typeof raw !== 'number' || !Number.isFinite(raw) || raw <= lo) {
    throw new ConfigError(field, `must be a number > ${lo}, got ${show(raw)}`, `set a number > ${lo}`);
  }
  return raw;
}

export function oneOf<T extends string>(raw: unknown, field: string, options: readonly T[]): T {
  if (typeof raw === 'string' && options.includes(raw as T)) return raw as T;
  const near = typeof raw === 'string' ? closest(raw, options) : undefined;
  throw new ConfigError(field, `must be one of ${options.map((o) => `'${o}'`).join(', ')}, got ${show(raw)}`,
    near ? `did you mean '${near}'?` : `use one of ${options.join(', ')}`);
}
