// The point of a study's ramp space that a schedule equals, if the space holds it: one home for baselines, enqueued schedules and warm-start copies.
import { ConfigError } from '../errors.js';
import { EncodedSpace, type SearchSpace } from '../optimizer/index.js';
import type { ScheduleSpec } from '../schedule/types.js';
import { DEFAULT_RENORM_MOMENTUM } from '../shared/names.js';
import { paperAsRamp } from '../shared/ramp.js';
import type { Params } from './types.js';

/** BatchNorm as a ramp: rmax stays 1 and dmax 0 from the start (src/study/schedule_space.ts maps it back). */
const BATCHNORM_POINT: Readonly<Params> = Object.freeze({ warmup: 0, rmaxFinal: 1, rmaxEndFrac: 1, dmaxFinal: 0, dmaxEndFrac: 1, shape: 'linear' });

/** `params` as the space validates them, or null when they are not a point of it (outside a range, missing, extra). */
export function pointIn(space: SearchSpace | EncodedSpace, params: Params): Params | null {
  try {
    return (space instanceof EncodedSpace ? space : new EncodedSpace(space)).validateParams(params);
  } catch (err) {
    if (err instanceof ConfigError) return null;
    throw err;
  }
}

/**
 * The point of the ramp space (src/study/schedule_space.ts) that `schedule` equals, if `space` contains it: then the
 * optimizer learns from the trial like from its own proposals. BatchNorm and the paper's schedule are ramps too; a
 * formula, or a ramp outside the (possibly narrowed) space, has no point (null): it is still evaluated, the
 * optimizer just cannot place it. `renormMomentum` (default the default) fills that parameter when it is searched.
 */
export function scheduleParams(schedule: ScheduleSpec, space: SearchSpace, renormMomentum?: number): Params | null {
  let p: Params;
  if (schedule.kind === 'batchnorm') {
    p = { ...BATCHNORM_POINT };
  } else if (schedule.kind === 'ramp' || schedule.kind === 'paper') {
    const r = schedule.kind === 'paper' ? paperAsRamp(schedule) : schedule;
    if (!(r.warmup < 1)) return null;
    // The inverse of paramsToSchedule: the ends are stored as shares of the run left after the warm-up (clamped
    // against rounding, so a ramp that ends with the run maps to exactly 1).
    const share = (end: number) => Math.min(1, Math.max(0, (end - r.warmup) / (1 - r.warmup)));
    p = { warmup: r.warmup, rmaxFinal: r.rmaxFinal, rmaxEndFrac: share(r.rmaxEnd), dmaxFinal: r.dmaxFinal, dmaxEndFrac: share(r.dmaxEnd), shape: r.shape };
  } else {
    return null;
  }
  if ('renormMomentum' in space) p.renormMomentum = renormMomentum ?? DEFAULT_RENORM_MOMENTUM;
  return pointIn(space, p);
}
