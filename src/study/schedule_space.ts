// The Batch-Renormalization search space (the study's, not the generic optimizer's): defaults, user overrides, params -> RampSchedule.
//
// Parameters (all fractions are of the whole run, t in [0, 1]):
//   warmup          float [0, 0.5]      plain BatchNorm (rmax = 1, dmax = 0) until this fraction
//   rmaxFinal       float [1, 5], log   rmax after its ramp
//   rmaxEndFrac     float [0, 1]        where the rmax ramp ends, as a share of the run left after warm-up
//   dmaxFinal       float [0, 6]        dmax after its ramp
//   dmaxEndFrac     float [0, 1]        where the dmax ramp ends, as a share of the run left after warm-up
//   shape           categorical         linear | cosine | exponential
//   renormMomentum  float [0.9, 0.999]  momentum of the moving statistics
// The ends are parametrised relative to the warm-up (rmaxEnd = warmup + rmaxEndFrac * (1 - warmup)), so
// every point of the box is a valid schedule and the optimizer never wastes asks on rejected ones.
import { ConfigError } from '../errors.js';
import { expectObject } from '../config/fields.js';
import type { RampSchedule, RampShape } from '../schedule/types.js';
import { RAMP_SHAPES } from '../shared/ramp.js';
import { validateParam, type ParamSpec, type Params, type SearchSpace } from '../optimizer/index.js';

export const defaultScheduleSpace: SearchSpace = Object.freeze({
  warmup: { type: 'float', low: 0, high: 0.5 },
  rmaxFinal: { type: 'float', low: 1, high: 5, log: true },
  rmaxEndFrac: { type: 'float', low: 0, high: 1 },
  dmaxFinal: { type: 'float', low: 0, high: 6 },
  dmaxEndFrac: { type: 'float', low: 0, high: 1 },
  shape: { type: 'categorical', choices: [...RAMP_SHAPES] },
  renormMomentum: { type: 'float', low: 0.9, high: 0.999 },
}) as SearchSpace;

/** Values each parameter may take at all (an override may narrow, never leave these). */
const LIMITS: Record<string, { low: number; high: number } | { choices: readonly string[] }> = {
  warmup: { low: 0, high: 0.99 },
  rmaxFinal: { low: 1, high: 1e3 },
  rmaxEndFrac: { low: 0, high: 1 },
  dmaxFinal: { low: 0, high: 1e3 },
  dmaxEndFrac: { low: 0, high: 1 },
  shape: { choices: RAMP_SHAPES },
  renormMomentum: { low: 0, high: 0.99999 },
};

export const scheduleParamNames = Object.keys(defaultScheduleSpace);

function checkLimits(name: string, spec: ParamSpec, field: string): void {
  const lim = LIMITS[name]!;
  if ('choices' in lim) {
    if (spec.type !== 'categorical') throw new ConfigError(field, `must be categorical with choices from ${lim.choices.join(', ')}`);
    for (const c of spec.choices) {
      if (!lim.choices.includes(c as string)) throw new ConfigError(`${field}.choices`, `unknown shape ${JSON.stringify(c)}`, `use ${lim.choices.join(', ')}`);
    }
    return;
  }
  const values = spec.type === 'categorical' ? spec.choices : [spec.low, spec.high];
  for (const v of values) {
    if (typeof v !== 'number') throw new ConfigError(field, `${JSON.stringify(v)} is not a number`, `give ${name}'s values as numbers (0.1, not "0.1")`);
    if (v < lim.low || v > lim.high) {
      throw new ConfigError(field, `${JSON.stringify(v)} is outside the allowed range [${lim.low}, ${lim.high}]`, `keep ${name} within [${lim.low}, ${lim.high}]`);
    }
  }
}

/**
 * The default space with `override` applied. Each overridden name takes either a parameter spec (e.g. a
 * narrower range) or a constant, which fixes it (stored as a one-choice categorical); `renormMomentum: null`
 * drops momentum from the search (paramsToSchedule then returns none). Unknown names throw.
 */
export function mergeScheduleSpace(override: unknown = {}, field = 'space'): SearchSpace {
  if (override === undefined || override === null) return { ...defaultScheduleSpace };
  const o = expectObject(override, field, 'give an object keyed by parameter name, or leave it out for the default space');
  const unknown = Object.keys(o).filter((k) => !(k in defaultScheduleSpace));
  if (unknown.length > 0) {
    throw new ConfigError(field, `unknown schedule parameter${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`, `allowed: ${scheduleParamNames.join(', ')}`);
  }
  const out: SearchSpace = {};
  for (const name of scheduleParamNames) {
    const f = `${field}.${name}`;
    if (!(name in o)) {
      out[name] = defaultScheduleSpace[name]!;
      continue;
    }
    const v = o[name];
    if (v === null && name === 'renormMomentum') continue; // not tuned: the trainer's default momentum applies
    const spec: ParamSpec = typeof v === 'number' || typeof v === 'string' ? { type: 'categorical', choices: [v] } : validateParam(v, f);
    checkLimits(name, spec, f);
    out[name] = spec;
  }
  return out;
}

function num(params: Params, name: string): number {
  const v = params[name];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(`params.${name}`, `must be a finite number, got ${JSON.stringify(v)}`);
  return v;
}

/** Maps a point of the (possibly overridden) schedule space to a ramp schedule and optional momentum. */
export function paramsToSchedule(params: Params): { schedule: RampSchedule; renormMomentum?: number } {
  const warmup = num(params, 'warmup');
  const shape = params.shape;
  if (!RAMP_SHAPES.includes(shape as RampShape)) throw new ConfigError('params.shape', `must be one of ${RAMP_SHAPES.join(', ')}, got ${JSON.stringify(shape)}`);
  const rest = 1 - warmup;
  const schedule: RampSchedule = {
    kind: 'ramp',
    shape: shape as RampShape,
    warmup,
    rmaxFinal: num(params, 'rmaxFinal'),
    rmaxEnd: Math.min(1, warmup + num(params, 'rmaxEndFrac') * rest),
    dmaxFinal: num(params, 'dmaxFinal'),
    dmaxEnd: Math.min(1, warmup + num(params, 'dmaxEndFrac') * rest),
  };
  return 'renormMomentum' in params ? { schedule, renormMomentum: num(params, 'renormMomentum') } : { schedule };
}
