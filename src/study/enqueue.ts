// A schedule a person queues by hand (Optuna's enqueue_trial): the new trial, with the point of the study's space it equals when there is one.
import { ConfigError } from '../errors.js';
import { EncodedSpace, type SearchSpace } from '../optimizer/index.js';
import type { ScheduleSpec } from '../schedule/types.js';
import { DEFAULT_RENORM_MOMENTUM } from '../shared/names.js';
import { paperAsRamp } from '../shared/ramp.js';
import type { NewTrial, Params } from './types.js';

/**
 * The point of the ramp space (src/study/schedule_space.ts) that `schedule` equals, if `space` contains it: then
 * the optimizer learns from the trial like from its own proposals. A formula or plain BatchNorm, or a ramp
 * outside the (possibly narrowed) space, has none (null): it is still evaluated, the optimizer just cannot place it.
 */
export function scheduleParams(schedule: ScheduleSpec, space: SearchSpace, renormMomentum?: number): Params | null {
  if (schedule.kind !== 'ramp' && schedule.kind !== 'paper') return null;
  const r = schedule.kind === 'paper' ? paperAsRamp(schedule) : schedule;
  if (!(r.warmup < 1)) return null;
  // The inverse of paramsToSchedule: the ends are stored as shares of the run left after the warm-up (clamped
  // against rounding, so a ramp that ends with the run maps to exactly 1).
  const share = (end: number) => Math.min(1, Math.max(0, (end - r.warmup) / (1 - r.warmup)));
  const p: Params = { warmup: r.warmup, rmaxFinal: r.rmaxFinal, rmaxEndFrac: share(r.rmaxEnd), dmaxFinal: r.dmaxFinal, dmaxEndFrac: share(r.dmaxEnd), shape: r.shape };
  if ('renormMomentum' in space) p.renormMomentum = renormMomentum ?? DEFAULT_RENORM_MOMENTUM;
  try {
    return new EncodedSpace(space).validateParams(p);
  } catch (err) {
    if (err instanceof ConfigError) return null;
    throw err;
  }
}

/**
 * The WAITING `enqueued` trial for `schedule`. Its params are the equivalent point of the space when there is one;
 * otherwise only the momentum (when given), which the trainer applies and the optimizer skips.
 */
export function enqueuedTrial(schedule: ScheduleSpec, space: SearchSpace, renormMomentum?: number): NewTrial {
  if (renormMomentum !== undefined && !('renormMomentum' in space)) {
    // Such a study runs every trial at the default momentum; one trial at another would not be comparable.
    throw new ConfigError('renormMomentum', 'this study does not tune renormMomentum (its space sets it to null)', 'leave renormMomentum out');
  }
  const params = scheduleParams(schedule, space, renormMomentum) ?? (renormMomentum === undefined ? {} : { renormMomentum });
  return { state: 'WAITING', role: 'enqueued', params, schedule };
}
