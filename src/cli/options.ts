// Option parsers shared by the commands: each names the flag and shows a valid value when it refuses one.
import { ConfigError } from '../errors.js';
import type { InputShape } from '../engine/models.js';

/** A whole number written in decimal digits, else NaN: Number() alone takes '0x10' as 16, '1e2' as 100 and '' as 0. */
export function wholeNumber(raw: string): number {
  return /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
}

function integerAtLeast(min: number, what: string, field: string, example: number) {
  return (raw: string): number => {
    const v = wholeNumber(raw);
    if (!Number.isInteger(v) || v < min) throw new ConfigError(field, `must be ${what}, got '${raw}'`, `e.g. ${field} ${example}`);
    return v;
  };
}

/** A commander parser for a positive integer flag. */
export function positiveInt(field: string, example = 5) {
  return integerAtLeast(1, 'a positive integer', field, example);
}

/** A commander parser for an integer flag that may be 0. */
export function nonNegativeInt(field: string, example = 10) {
  return integerAtLeast(0, 'an integer >= 0', field, example);
}

/** --port (or `field`): an integer in [0, 65535] (0 picks a free port); a refusal quotes what was typed. */
export function portNumber(raw: string, field = '--port'): number {
  const v = wholeNumber(raw);
  if (!(v <= 65535)) throw new ConfigError(field, `must be an integer in [0, 65535], got ${JSON.stringify(raw)}`, `e.g. ${field} ${field === '--port' ? 8080 : 9464} (0 picks a free one)`);
  return v;
}

/** A commander parser for a comma-separated list, each item parsed by `parse` and, given `known`, one of those. */
export function list<T>(field: string, parse: (s: string) => T, known?: readonly string[]) {
  return (raw: string): T[] => {
    const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
    if (items.length === 0) throw new ConfigError(field, 'must not be empty', known ? `use a comma-separated list of ${known.join(', ')}` : `e.g. ${field} 1,2,4`);
    return items.map((s) => {
      if (known && !known.includes(s)) throw new ConfigError(field, `unknown value '${s}'`, `use a comma-separated list of ${known.join(', ')}`);
      return parse(s);
    });
  };
}

/**
 * --devices as a list of GPU indices (`0, 1` -> ['0', '1']), or undefined without the flag. Anything else is refused:
 * CUDA stops reading CUDA_VISIBLE_DEVICES at an entry it cannot parse, so `a,b` would quietly train a whole study on no GPU.
 */
export function deviceList(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const fix = 'give distinct GPU indices separated by commas, e.g. --devices 0,1 (nvidia-smi lists them)';
  const ids = raw.split(',').map((d) => d.trim());
  const bad = ids.find((d) => !/^\d{1,4}$/.test(d));
  if (bad !== undefined) throw new ConfigError('--devices', `must be a comma-separated list of GPU indices (integers >= 0), got ${JSON.stringify(raw)} (${bad === '' ? 'an empty entry' : `'${bad}' is not one`})`, fix);
  const indices = ids.map((d) => String(Number(d)));
  const twice = indices.find((d, i) => indices.indexOf(d) !== i);
  if (twice !== undefined) throw new ConfigError('--devices', `lists GPU ${twice} twice, got ${JSON.stringify(raw)}`, fix);
  return indices;
}

/** --input as HxWxC (e.g. 32x32x3): an image shape of positive integers, each at most `max`. */
export function imageShape(field: string, max = 1024) {
  return (raw: string): InputShape => {
    const parts = raw.trim().split(/x/i).map(wholeNumber);
    if (parts.length !== 3 || parts.some((v) => !(v >= 1 && v <= max))) {
      throw new ConfigError(field, `must be height x width x channels, each an integer in [1, ${max}], got ${JSON.stringify(raw)}`, `e.g. ${field} 32x32x3`);
    }
    const [height, width, channels] = parts as [number, number, number];
    return { height, width, channels };
  };
}
