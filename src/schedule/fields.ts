// Small checkers for untrusted JSON config fields: each failure is a ConfigError naming the dotted field and the fix.
import { ConfigError } from '../errors.js';

export type Json = Record<string, unknown>;

export function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === undefined) return 'undefined';
  try {
    const s = JSON.stringify(v);
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return String(v);
  }
}

export function expectObject(raw: unknown, field: string, fix = 'give a JSON object'): Json {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(field, `must be an object, got ${describeValue(raw)}`, fix);
  }
  return raw as Json;
}

/** Unknown keys are almost always typos (`rmaxFinale`), so they are rejected rather than ignored. */
export function rejectUnknown(obj: Json, field: string, allowed: readonly string[]): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      throw new ConfigError(`${field}.${key}`, 'unknown field', `remove it; allowed fields are ${allowed.join(', ')}`);
    }
  }
}

export function expectNumber(raw: unknown, field: string, lo: number, hi: number, opts: { loOpen?: boolean; hiOpen?: boolean } = {}): number {
  const range = `${opts.loOpen ? '(' : '['}${lo}, ${hi}${opts.hiOpen ? ')' : ']'}`;
  if (typeof raw !== 'number' || !Number.isFinite(raw)) {
    throw new ConfigError(field, `must be a finite number in ${range}, got ${describeValue(raw)}`, `set a number in ${range}`);
  }
  const tooLow = opts.loOpen ? raw <= lo : raw < lo;
  const tooHigh = opts.hiOpen ? raw >= hi : raw > hi;
  if (tooLow || tooHigh) {
    throw new ConfigError(field, `must be a number in ${range}, got ${raw}`, `set a number in ${range}`);
  }
  return raw;
}

export function expectInt(raw: unknown, field: string, lo: number, hi: number): number {
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < lo || raw > hi) {
    throw new ConfigError(field, `must be an integer in [${lo}, ${hi}], got ${describeValue(raw)}`, `set an integer in [${lo}, ${hi}]`);
  }
  return raw;
}

export function expectString(raw: unknown, field: string, fix = 'give a non-empty string'): string {
  if (typeof raw !== 'string' || raw.trim() === '') {
    throw new ConfigError(field, `must be a non-empty string, got ${describeValue(raw)}`, fix);
  }
  return raw;
}

export function expectOneOf<T extends string>(raw: unknown, field: string, options: readonly T[]): T {
  if (typeof raw !== 'string' || !options.includes(raw as T)) {
    throw new ConfigError(field, `must be one of ${options.map((o) => `'${o}'`).join(', ')}, got ${describeValue(raw)}`, `use one of ${options.join(', ')}`);
  }
  return raw as T;
}
