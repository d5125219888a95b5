// Search spaces: validation with errors that name the parameter, and the encoding to the GP's unit box and back.
//
// Encoding: floats map linearly (or in log) to [0, 1]. Integers map to the centres of equal-width bins
// ((v - low + 0.5) / (high - low + 1), or the same in log over [low - 0.5, high + 0.5]) so every integer owns
// the same share of the box; kernel inputs are snapped to those centres. A categorical is stored as its
// choice index and compared by the kernel with a Hamming distance (see src/gp/kernel.ts for why).
import { ConfigError } from '../errors.js';
import { expectNumber, expectObject, expectOneOf, rejectUnknown } from '../config/fields.js';
import type { DimSpec } from '../gp/optimize_acqf.js';
import type { Params, ParamValue } from './types.js';
import { Rng } from '../gp/rng.js';

export interface FloatParam {
  type: 'float';
  low: number;
  high: number;
  /** Sample on a log scale (requires low > 0). Default false. */
  log?: boolean;
}
export interface IntParam {
  type: 'int';
  low: number;
  high: number;
  /** Sample on a log scale (requires low >= 1). Default false. */
  log?: boolean;
}
export interface CategoricalParam {
  type: 'categorical';
  /** Distinct choices; a single choice fixes the parameter. */
  choices: (string | number)[];
}
export type ParamSpec = FloatParam | IntParam | CategoricalParam;
export type SearchSpace = Record<string, ParamSpec>;

const TYPES = ['float', 'int', 'categorical'] as const;
/** Integers with more levels than this are kept continuous in the kernel and rounded on decode. */
const MAX_GRID = 100000;

/** Checks one parameter spec; `field` is its dotted path, used in every error. */
export function validateParam(raw: unknown, field: string): ParamSpec {
  const spec = expectObject(raw, field, "give an object like { type: 'float', low, high }");
  const type = expectOneOf(spec.type, `${field}.type`, TYPES);
  if (type === 'categorical') {
    rejectUnknown(spec, field, ['type', 'choices']);
    const choices = spec.choices;
    if (!Array.isArray(choices) || choices.length === 0) {
      throw new ConfigError(`${field}.choices`, 'must be a non-empty array', 'list at least one choice (one choice fixes the parameter)');
    }
    const seen = new Set<string>();
    for (const c of choices) {
      if (!(typeof c === 'string' || (typeof c === 'number' && Number.isFinite(c)))) {
        throw new ConfigError(`${field}.choices`, `choice ${JSON.stringify(c)} is not a string or finite number`);
      }
      const key = `${typeof c}:${c}`;
      if (seen.has(key)) throw new ConfigError(`${field}.choices`, `duplicate choice ${JSON.stringify(c)}`, 'list each choice once');
      seen.add(key);
    }
    return { type, choices: [...choices] as (string | number)[] };
  }
  const lo = expectNumber(spec.low, `${field}.low`, -Infinity, Infinity);
  const hi = expectNumber(spec.high, `${field}.high`, -Infinity, Infinity);
  if (lo >= hi) throw new ConfigError(field, `low (${lo}) must be below high (${hi})`, lo === hi ? 'widen the range, or use a one-choice categorical to fix the value' : 'swap them, or use a one-choice categorical to fix a value');
  // The encoding divides by the span: one past the largest double would send every point to an end of the range.
  if (!Number.isFinite(hi - lo)) throw new ConfigError(field, `the span high - low (${hi} - ${lo}) overflows a double`, 'narrow the range, or search it on a log scale');
  const log = spec.log ?? false;
  if (typeof log !== 'boolean') throw new ConfigError(`${field}.log`, `must be true or false, got ${JSON.stringify(log)}`);
  if (type === 'int' && (!Number.isInteger(lo) || !Number.isInteger(hi))) {
    throw new ConfigError(field, `int bounds must be integers, got low ${lo}, high ${hi}`, 'round the bounds or use type float');
  }
  if (log && lo <= 0) throw new ConfigError(`${field}.low`, `log scale needs low > 0, got ${lo}`, 'raise low or set log: false');
  rejectUnknown(spec, field, ['type', 'low', 'high', 'log']);
  return { type, low: lo, high: hi, log } as FloatParam | IntParam;
}

/** Validates a whole space: a non-empty object keyed by parameter name. */
export function validateSpace(raw: unknown, field = 'space'): SearchSpace {
  const obj = expectObject(raw, field, 'give an object keyed by parameter name');
  const names = Object.keys(obj);
  if (names.length === 0) throw new ConfigError(field, 'has no parameters', 'add at least one parameter');
  const out: SearchSpace = {};
  for (const name of names) out[name] = validateParam(obj[name], `${field}.${name}`);
  return out;
}

function logOr(v: number, log: boolean): number {
  return log ? Math.log(v) : v;
}

/** A validated space with its encoding: parameter order is the object's key order. */
export class EncodedSpace {
  readonly names: string[];
  readonly specs: ParamSpec[];
  readonly dims: DimSpec[];
  readonly categorical: Uint8Array;

  constructor(readonly space: SearchSpace) {
    this.names = Object.keys(space);
    this.specs = this.names.map((n) => space[n]!);
    this.categorical = Uint8Array.from(this.specs.map((s) => (s.type === 'categorical' ? 1 : 0)));
    this.dims = this.specs.map((s) => {
      if (s.type === 'categorical') return { kind: 'categorical', choices: s.choices.length };
      if (s.type === 'int' && s.high - s.low + 1 <= MAX_GRID) {
        const grid = new Float64Array(s.high - s.low + 1);
        for (let i = 0; i < grid.length; i++) grid[i] = this.encodeOne(s, s.low + i);
        return { kind: 'grid', grid };
      }
      return { kind: 'continuous' };
    });
  }

  get d(): number {
    return this.names.length;
  }

  private encodeOne(s: FloatParam | IntParam, v: number): number {
    const log = s.log ?? false;
    const pad = s.type === 'int' ? 0.5 : 0;
    const a = logOr(s.low - pad, log);
    const b = logOr(s.high + pad, log);
    return (logOr(v, log) - a) / (b - a);
  }

  encode(params: Params): Float64Array {
    const x = new Float64Array(this.d);
    this.specs.forEach((s, j) => {
      const v = params[this.names[j]!]!;
      x[j] = s.type === 'categorical' ? s.choices.indexOf(v) : this.encodeOne(s, v as number);
    });
    return x;
  }

  decode(x: ArrayLike<number>): Params {
    const out: Params = {};
    this.specs.forEach((s, j) => {
      const u = x[j]!;
      let v: ParamValue;
      if (s.type === 'categorical') v = s.choices[Math.min(s.choices.length - 1, Math.max(0, Math.round(u)))]!;
      else {
        const log = s.log ?? false;
        const pad = s.type === 'int' ? 0.5 : 0;
        const a = logOr(s.low - pad, log);
        const b = logOr(s.high + pad, log);
        const t = a + Math.min(1, Math.max(0, u)) * (b - a);
        let num = log ? Math.exp(t) : t;
        if (s.type === 'int') num = Math.round(num);
        v = Math.min(s.high, Math.max(s.low, num));
      }
      out[this.names[j]!] = v;
    });
    return out;
  }

  /** Throws a ConfigError naming the parameter unless `params` is a point of this space. */
  validateParams(raw: unknown, field = 'params'): Params {
    const params = expectObject(raw, field, 'give an object keyed by parameter name');
    for (const k of Object.keys(params)) {
      if (!(k in this.space)) throw new ConfigError(`${field}.${k}`, 'is not a parameter of the space', `known parameters: ${this.names.join(', ')}`);
    }
    const out: Params = {};
    this.specs.forEach((s, j) => {
      const name = this.names[j]!;
      const v = params[name];
      const f = `${field}.${name}`;
      if (v === undefined) throw new ConfigError(f, 'is missing');
      if (s.type === 'categorical') {
        if (!s.choices.includes(v as string | number)) throw new ConfigError(f, `${JSON.stringify(v)} is not one of ${JSON.stringify(s.choices)}`);
      } else {
        const x = expectNumber(v, f, -Infinity, Infinity);
        if (x < s.low || x > s.high) throw new ConfigError(f, `${x} is outside [${s.low}, ${s.high}]`);
        if (s.type === 'int' && !Number.isInteger(x)) throw new ConfigError(f, `${v} must be an integer`);
      }
      out[name] = v as ParamValue;
    });
    return out;
  }

  /** Uniform draw in the encoded box (log-uniform for log params), snapped to the feasible set. */
  sampleUniform(rng: Rng): Float64Array {
    const x = new Float64Array(this.d);
    this.dims.forEach((dim, j) => {
      if (dim.kind === 'categorical') x[j] = rng.int(dim.choices!);
      else if (dim.kind === 'grid') x[j] = dim.grid![rng.int(dim.grid!.length)]!;
      else x[j] = rng.uniform();
    });
    return x;
  }

  /** Canonical key of a decoded point, for duplicate detection. */
  key(params: Params): string {
    return JSON.stringify(this.names.map((n) => params[n]));
  }
}
