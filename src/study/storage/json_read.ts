// Reads a stored JSON column so that nothing ever stored can make a read fail: unparsable or absurdly deep values are skipped with a warning.

/** Deeper than anything renorm-tune writes (the door admits 32 levels): such a value would overflow JSON.stringify on the way out. */
export const MAX_STORED_DEPTH = 64;

/** Depth of a parsed value, walked without recursion so the check itself cannot overflow; stops early past `limit`. */
export function jsonDepth(value: unknown, limit = Infinity): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d > max) max = d;
    if (max > limit) return max;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}

/** `text` parsed, or `fallback` (and a warning saying why) when it cannot be parsed or nests deeper than MAX_STORED_DEPTH. */
export function readStoredJson<T>(text: string, fallback: T, warn: (why: string) => void): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    warn(`is not valid JSON and was skipped (${(err as Error).message})`);
    return fallback;
  }
  if (jsonDepth(value, MAX_STORED_DEPTH) > MAX_STORED_DEPTH) {
    warn(`nests deeper than ${MAX_STORED_DEPTH} levels and was skipped`);
    return fallback;
  }
  return value as T;
}
