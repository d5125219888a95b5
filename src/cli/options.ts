// Option parsers shared by the commands: each names the flag and shows a valid value when it refuses one.
import { ConfigError } from '../errors.js';

function integerAtLeast(min: number, what: string, field: string, example: number) {
  return (raw: string): number => {
    const v = Number(raw);
    if (raw.trim() === '' || !Number.isInteger(v) || v < min) throw new ConfigError(field, `must be ${what}, got '${raw}'`, `e.g. ${field} ${example}`);
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

/** --devices as a list of device ids (`0, 1` -> ['0', '1']), or undefined without the flag. */
export function deviceList(raw: string | undefined): string[] | undefined {
  return raw?.split(',').map((d) => d.trim());
}
