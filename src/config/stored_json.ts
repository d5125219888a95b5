// Reads JSON that was stored earlier without ever throwing: a value too deep is cut down, one too big or unparsable is skipped, each with a warning.
import { STORED_JSON_BOUNDS, type JsonBounds } from './json_bounds.js';

/**
 * Values written before the bounds existed (or by another tool) may be anything; a reader that throws on one of
 * them breaks `show`, the dashboard and every list that includes the study, for good. So reading repairs instead.
 */
export interface StoredJsonOptions<T> {
  /** Names the value in warnings, e.g. `study 3f2a.. trial 7 report at step 100: metrics`. */
  where: string;
  /** Called once per repaired or skipped value; the storage layer logs it. */
  warn: (message: string) => void;
  /** What a skipped value reads as (usually null). */
  fallback: T;
  /** Default STORED_JSON_BOUNDS. */
  bounds?: JsonBounds;
}

/** Keys dropped while copying: assigning `__proto__` on a fresh object would change its prototype, not add data. */
const DROPPED_KEYS = new Set(['__proto__']);

type Outcome = { value: unknown; cut: number; dropped: number } | { tooMany: true };

/**
 * An iterative copy keeping `maxDepth` levels: deeper objects/arrays become null. Also drops reserved keys and
 * stops (too many entries) before a huge value is copied whole.
 */
function boundedCopy(value: unknown, bounds: JsonBounds): Outcome {
  if (typeof value !== 'object' || value === null) return { value, cut: 0, dropped: 0 };
  let cut = 0;
  let dropped = 0;
  let entries = 0;
  const root: Record<string, unknown> | unknown[] = Array.isArray(value) ? [] : {};
  const stack: Array<[object, Record<string, unknown> | unknown[], number]> = [[value, root, 1]];
  while (stack.length) {
    const [src, dst, level] = stack.pop()!;
    const pairs: Array<[string | number, unknown]> = Array.isArray(src) ? src.map((v, i) => [i, v]) : Object.entries(src);
    entries += pairs.length;
    if (entries > bounds.maxEntries) return { tooMany: true };
    for (const [k, v] of pairs) {
      if (typeof k === 'string' && DROPPED_KEYS.has(k)) {
        dropped++;
        continue;
      }
      let out: unknown = v;
      if (typeof v === 'object' && v !== null) {
        if (level + 1 > bounds.maxDepth) {
          out = null;
          cut++;
        } else {
          const child: Record<string, unknown> | unknown[] = Array.isArray(v) ? [] : {};
          stack.push([v, child, level + 1]);
          out = child;
        }
      } else if (typeof v === 'number' && !Number.isFinite(v)) {
        out = null; // what JSON.stringify would have stored anyway
      } else if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean' && v !== null) {
        dropped++;
        continue;
      }
      if (Array.isArray(dst)) dst.push(out);
      else dst[k as string] = out;
    }
  }
  return { value: root, cut, dropped };
}

/**
 * A stored value as a reader may safely use it: within `bounds` depth (deeper parts replaced by null), without
 * reserved keys, and within the entry and byte limits (else the fallback). Never throws.
 */
export function repairStoredValue<T>(value: unknown, opts: StoredJsonOptions<T>): unknown {
  const bounds = opts.bounds ?? STORED_JSON_BOUNDS;
  try {
    const copy = boundedCopy(value, bounds);
    if ('tooMany' in copy) {
      opts.warn(`${opts.where}: skipped, it holds more than ${bounds.maxEntries} keys and items`);
      return opts.fallback;
    }
    // Safe now: the copy is at most maxDepth deep.
    const bytes = Buffer.byteLength(JSON.stringify(copy.value) ?? '');
    if (bytes > bounds.maxBytes) {
      opts.warn(`${opts.where}: skipped, it is ${bytes} bytes as JSON (limit ${bounds.maxBytes})`);
      return opts.fallback;
    }
    if (copy.cut) opts.warn(`${opts.where}: nested more than ${bounds.maxDepth} levels; ${copy.cut} deeper part(s) read as null`);
    if (copy.dropped) opts.warn(`${opts.where}: ${copy.dropped} reserved key(s) or non-JSON value(s) dropped`);
    return copy.value;
  } catch (err) {
    opts.warn(`${opts.where}: skipped, unreadable (${err instanceof Error ? err.message : String(err)})`);
    return opts.fallback;
  }
}

/**
 * JSON text from storage (a SQLite TEXT column) parsed and repaired as `repairStoredValue` does; SQL NULL reads as
 * null, and text that is too long or not JSON reads as the fallback. Never throws.
 */
export function readStoredJson<T>(text: string | null | undefined, opts: StoredJsonOptions<T>): unknown {
  if (text === null || text === undefined) return null;
  const bounds = opts.bounds ?? STORED_JSON_BOUNDS;
  const bytes = Buffer.byteLength(text);
  if (bytes > bounds.maxBytes) {
    opts.warn(`${opts.where}: skipped, it is ${bytes} bytes of JSON (limit ${bounds.maxBytes})`);
    return opts.fallback;
  }
  let parsed: unknown;
  try {
    // V8's JSON.parse does not recurse, so even a value thousands of levels deep parses; the copy then cuts it down.
    parsed = JSON.parse(text);
  } catch (err) {
    opts.warn(`${opts.where}: skipped, not valid JSON (${err instanceof Error ? err.message : String(err)})`);
    return opts.fallback;
  }
  // The common case, a value written within the bounds: checked in place, no copy (list reads parse thousands).
  return withinBounds(parsed, bounds) ? parsed : repairStoredValue(parsed, opts);
}

/**
 * True when a freshly parsed value needs no repair: at most `maxDepth` deep, `maxEntries` entries, no reserved
 * key. Parsed JSON holds no non-finite number or non-JSON type, and its text was already within `maxBytes`.
 */
function withinBounds(value: unknown, bounds: JsonBounds): boolean {
  if (typeof value !== 'object' || value === null) return true;
  let entries = 0;
  const stack: Array<[object, number]> = [[value, 1]];
  while (stack.length) {
    const [node, level] = stack.pop()!;
    if (Array.isArray(node)) {
      entries += node.length;
      if (entries > bounds.maxEntries) return false;
      for (const v of node) {
        if (typeof v === 'object' && v !== null) {
          if (level + 1 > bounds.maxDepth) return false;
          stack.push([v, level + 1]);
        }
      }
    } else {
      for (const k in node) {
        if (++entries > bounds.maxEntries || DROPPED_KEYS.has(k)) return false;
        const v = (node as Record<string, unknown>)[k];
        if (typeof v === 'object' && v !== null) {
          if (level + 1 > bounds.maxDepth) return false;
          stack.push([v, level + 1]);
        }
      }
    }
  }
  return true;
}
