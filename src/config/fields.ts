// Checkers for untrusted JSON config fields, shared by every package: each failure is a ConfigError naming the dotted field and the fix.
import { ConfigError } from '../errors.js';
import { nestsDeeperThan } from './json_bounds.js';

export type Json = Record<string, unknown>;

/** Deeper than this, a value is described by its shape: JSON.stringify and String() recurse and would overflow the stack. */
const DESCRIBE_DEPTH = 16;

function safely(f: () => boolean): boolean {
  try {
    return f();
  } catch {
    return false; // a throwing getter: let the JSON.stringify fallbacks below describe it
  }
}

/** A short rendering of the offending value for messages; `JSON.stringify` alone would print NaN as `null` and a missing field as nothing at all. Never throws. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (safely(() => nestsDeeperThan(v, DESCRIBE_DEPTH))) return `${Array.isArray(v) ? 'an array' : 'an object'} nested more than ${DESCRIBE_DEPTH} levels deep`;
  let s: string | undefined;
  try {
    s = JSON.stringify(v);
  } catch {
    s = undefined; // a cycle or a throwing getter
  }
  if (s === undefined) {
    try {
      s = String(v);
    } catch {
      s = Object.prototype.toString.call(v);
    }
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** `path.key`, or just `key` at the top level, so top-level fields are named `budget`, not `.budget`. */
export function joinField(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** Levenshtein distance, case-insensitive, for "did you mean": config names are short, so the O(n·m) row is nothing. */
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

/**
 * The allowed name closest to `key`, if close enough to be a typo: at most a third of its length in edits (and at
 * least 2, so short names still get suggestions). Further away, a suggestion is a guess that misleads more than helps.
 */
export function closestMatch(key: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const a of allowed) {
    const d = editDistance(key, a);
    if (d < bestD) [best, bestD] = [a, d];
  }
  return bestD <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

export function expectObject(raw: unknown, field: string, fix = 'give a JSON object'): Json {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(field, `must be an object, got ${describeValue(raw)}`, fix);
  }
  return raw as Json;
}

/** Unknown keys are almost always typos (`budjet`), and silently ignoring one runs something the user did not ask for. */
export function rejectUnknown(obj: Json, path: string, allowed: readonly string[]): void {
  for (const key of Object.keys(obj)) {
    if (allowed.includes(key)) continue;
    const near = closestMatch(key, allowed);
    const fix = near ? `did you mean '${near}'?` : allowed.length ? `remove it; allowed fields are ${allowed.join(', ')}` : 'remove it; this takes no fields (send {} or no body)';
    throw new ConfigError(joinField(path, key), 'unknown field', fix);
  }
}

/** `in [lo, hi]`, `> lo`, `<= hi` or '' (any finite number): infinite bounds read as one-sided limits, not `[0, Infinity]`. */
function rangeText(lo: number, hi: number, loOpen: boolean, hiOpen: boolean): string {
  const noLo = lo === -Infinity;
  const noHi = hi === Infinity || hi === Number.MAX_SAFE_INTEGER;
  if (noLo && noHi) return '';
  if (noHi) return `${loOpen ? '>' : '>='} ${lo}`;
  if (noLo) return `${hiOpen ? '<' : '<='} ${hi}`;
  return `in ${loOpen ? '(' : '['}${lo}, ${hi}${hiOpen ? ')' : ']'}`;
}

export interface NumberOptions {
  /** Exclude `lo` itself (a learning rate may not be 0). */
  loOpen?: boolean;
  hiOpen?: boolean;
  /** Replaces the default "set a number in ..." when the caller knows a better hint. */
  fix?: string;
}

/** A finite number within [lo, hi]; pass ±Infinity for an open side. NaN and Infinity are never accepted. */
export function expectNumber(raw: unknown, field: string, lo: number, hi: number, opts: NumberOptions = {}): number {
  const range = rangeText(lo, hi, opts.loOpen ?? false, opts.hiOpen ?? false);
  const fix = opts.fix ?? (range ? `set a number ${range}` : 'set a finite number');
  if (typeof raw !== 'number' || !Number.isFinite(raw)) {
    throw new ConfigError(field, `must be a finite number${range ? ` ${range}` : ''}, got ${describeValue(raw)}`, fix);
  }
  const tooLow = opts.loOpen ? raw <= lo : raw < lo;
  const tooHigh = opts.hiOpen ? raw >= hi : raw > hi;
  if (tooLow || tooHigh) throw new ConfigError(field, `must be a number ${range}, got ${raw}`, fix);
  return raw;
}

/** An integer within [lo, hi]; leave `hi` out for "at least lo" (capped at the largest safe integer). */
export function expectInt(raw: unknown, field: string, lo: number, hi = Number.MAX_SAFE_INTEGER, fix?: string): number {
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < lo || raw > Math.min(hi, Number.MAX_SAFE_INTEGER)) {
    // "at least lo" alone would not explain why 1e20 is refused: say where the integers end.
    const past = typeof raw === 'number' && raw > Number.MAX_SAFE_INTEGER && hi >= Number.MAX_SAFE_INTEGER;
    const range = past ? `in [${lo}, ${Number.MAX_SAFE_INTEGER}]` : rangeText(lo, hi, false, false);
    throw new ConfigError(field, `must be an integer ${range}, got ${describeValue(raw)}`, fix ?? `set an integer ${range}`);
  }
  return raw;
}

export function expectString(raw: unknown, field: string, fix = 'give a non-empty string'): string {
  if (typeof raw !== 'string' || raw.trim() === '') {
    throw new ConfigError(field, `must be a non-empty string, got ${describeValue(raw)}`, fix);
  }
  return raw;
}

/** One of a fixed set of names; a near miss (`logie`) gets "did you mean", anything else the caller's `fix` or the list. */
export function expectOneOf<T extends string>(raw: unknown, field: string, options: readonly T[], fix?: string): T {
  if (typeof raw === 'string' && options.includes(raw as T)) return raw as T;
  const near = typeof raw === 'string' ? closestMatch(raw, options) : undefined;
  throw new ConfigError(field, `must be one of ${options.map((o) => `'${o}'`).join(', ')}, got ${describeValue(raw)}`,
    near ? `did you mean '${near}'?` : (fix ?? `use one of ${options.join(', ')}`));
}
