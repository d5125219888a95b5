// Bounds on untrusted JSON values that get stored (depth, entries, bytes, finite numbers, no `__proto__` keys), walked without recursion so a hostile value cannot overflow the stack.
import { ConfigError } from '../errors.js';

export interface JsonBounds {
  /** Levels of objects/arrays: `1` is 0 deep, `{}` 1, `{"a": []}` 2. */
  maxDepth: number;
  /** Object keys plus array items, counted over the whole value. */
  maxEntries: number;
  /** UTF-8 bytes of the value's JSON text. */
  maxBytes: number;
}

/**
 * What one stored value (a report's metrics, a study config) may be. A metrics object is a handful of numbers and a
 * config a few kB; 64 kB and 32 levels leave room for any honest use while keeping every later read (JSON.stringify,
 * the dashboard, `show`) cheap and far from the stack limit.
 */
export const STORED_JSON_BOUNDS: Readonly<JsonBounds> = Object.freeze({ maxDepth: 32, maxEntries: 4096, maxBytes: 64 * 1024 });

/**
 * Keys that a careless `Object.assign`/`obj[key] = v` copy turns into a prototype change rather than data. JSON.parse
 * keeps them as plain own keys, so they would be stored and bite whichever reader copies the value next.
 */
const RESERVED_KEYS = new Set(['__proto__']);

export type JsonProblemKind = 'depth' | 'entries' | 'bytes' | 'number' | 'key' | 'type';

export interface JsonProblem {
  kind: JsonProblemKind;
  /** Where, as a dotted path below the checked field (`metrics.a[3]`); cut short past a few levels. */
  path: string;
}

const PATH_SEGMENTS_SHOWN = 6;

/** A path that stays readable when the value is thousands of levels deep: the first few segments, then an ellipsis. */
class Path {
  constructor(
    readonly text: string,
    readonly segments: number,
  ) {}
  child(key: string | number): Path {
    if (this.segments >= PATH_SEGMENTS_SHOWN) return this.segments === PATH_SEGMENTS_SHOWN ? new Path(`${this.text}…`, this.segments + 1) : this;
    const dot = this.text === '' ? '' : '.';
    const seg = typeof key === 'number' ? `[${key}]` : /^[A-Za-z_$][\w$]*$/.test(key) ? `${dot}${key}` : `[${JSON.stringify(key.length > 40 ? `${key.slice(0, 37)}...` : key)}]`;
    return new Path(this.text + seg, this.segments + 1);
  }
}

function isContainer(v: unknown): v is Record<string, unknown> | unknown[] {
  return typeof v === 'object' && v !== null;
}

/**
 * True when `value` has more than `maxDepth` levels of objects/arrays. Stops at the first path that is too deep,
 * never recurses, and visits each object once, so a cycle ends the walk instead of looping (JSON values have no
 * shared parts; for a built value with some, the depth found may be lower). describeValue uses it before it dares
 * call JSON.stringify.
 */
export function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  if (!isContainer(value)) return false;
  const seen = new Set<object>([value]);
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (depth > maxDepth) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v as object)) {
      if (isContainer(child) && !seen.has(child)) {
        seen.add(child);
        stack.push([child, depth + 1]);
      }
    }
  }
  return false;
}

/**
 * The path of the first object/array deeper than `maxDepth` levels, or null; unlike findJsonProblem it looks at
 * nothing else, so a request body with some other fault is still checked for depth. Iterative.
 */
export function findTooDeep(value: unknown, field: string, maxDepth: number): string | null {
  const stack: Array<[unknown, number, Path]> = [[value, 1, new Path(field, 1)]];
  while (stack.length) {
    const [v, level, path] = stack.pop()!;
    if (!isContainer(v)) continue;
    if (level > maxDepth) return path.text;
    if (Array.isArray(v)) for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], level + 1, path.child(i)]);
    else for (const k of Object.keys(v).reverse()) stack.push([v[k], level + 1, path.child(k)]);
  }
  return null;
}

/**
 * The first way `value` breaks `bounds`, or null. Depth, entries, numbers, keys and types are checked in one
 * iterative walk; the byte size is measured only afterwards, when the depth is known to be safe for JSON.stringify.
 */
export function findJsonProblem(value: unknown, field: string, bounds: JsonBounds = STORED_JSON_BOUNDS): JsonProblem | null {
  let entries = 0;
  const stack: Array<[unknown, number, Path]> = [[value, 0, new Path(field, 1)]];
  while (stack.length) {
    const [v, depth, path] = stack.pop()!;
    if (v === null || typeof v === 'string' || typeof v === 'boolean') continue;
    if (typeof v === 'number') {
      // JSON.parse reads 1e999 as Infinity, which JSON.stringify would later store as null: refuse rather than lose it.
      if (!Number.isFinite(v)) return { kind: 'number', path: path.text };
      continue;
    }
    if (typeof v !== 'object') return { kind: 'type', path: path.text };
    if (depth + 1 > bounds.maxDepth) return { kind: 'depth', path: path.text };
    if (Array.isArray(v)) {
      entries += v.length;
      if (entries > bounds.maxEntries) return { kind: 'entries', path: path.text };
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], depth + 1, path.child(i)]);
    } else {
      const keys = Object.keys(v);
      entries += keys.length;
      if (entries > bounds.maxEntries) return { kind: 'entries', path: path.text };
      for (let i = keys.length - 1; i >= 0; i--) {
        const k = keys[i]!;
        if (RESERVED_KEYS.has(k)) return { kind: 'key', path: path.child(k).text };
        stack.push([(v as Record<string, unknown>)[k], depth + 1, path.child(k)]);
      }
    }
  }
  if (Buffer.byteLength(JSON.stringify(value) ?? '') > bounds.maxBytes) return { kind: 'bytes', path: field };
  return null;
}

function kb(bytes: number): string {
  return bytes % 1024 === 0 ? `${bytes / 1024} kB` : `${bytes} bytes`;
}

/**
 * Throws a ConfigError naming the field and the fix when `value` is not a JSON value that can be stored as is.
 * Depth, entry and size problems name the checked field (its deep path would be unreadable); a bad number, key or
 * type names the exact path. `field` '' checks a whole request body whose keys are top-level names (a study config).
 */
export function expectBoundedJson(value: unknown, field: string, bounds: JsonBounds = STORED_JSON_BOUNDS): void {
  const problem = findJsonProblem(value, field, bounds);
  if (!problem) return;
  field ||= 'body';
  switch (problem.kind) {
    case 'depth':
      throw new ConfigError(field, `nests more than ${bounds.maxDepth} levels of objects/arrays (at ${problem.path || 'the top'})`, `flatten it to at most ${bounds.maxDepth} levels`);
    case 'entries':
      throw new ConfigError(field, `holds more than ${bounds.maxEntries} keys and array items in all`, 'store a summary (a few numbers), not raw series');
    case 'bytes':
      throw new ConfigError(field, `is larger than ${kb(bounds.maxBytes)} as JSON`, `keep it under ${kb(bounds.maxBytes)}: store a summary, not raw data`);
    case 'number':
      throw new ConfigError(problem.path || field, 'must be a finite number (JSON cannot store Infinity or NaN; 1e999 reads as Infinity)', 'send a finite number, or null');
    case 'key':
      throw new ConfigError(problem.path || field, 'is a reserved key', 'rename the key');
    case 'type':
      throw new ConfigError(problem.path || field, 'is not a JSON value', 'send only objects, arrays, strings, finite numbers, booleans and null');
  }
}
