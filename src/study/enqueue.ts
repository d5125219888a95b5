// A schedule a person queues by hand (Optuna's enqueue_trial): the new trial, with the point of the study's space it equals when there is one.
import { ConfigError } from '../errors.js';
import type { SearchSpace } from '../optimizer/index.js';
import { usesRunLength } from '../schedule/formula.js';
import { scheduleTable } from '../schedule/table.js';
import type { ScheduleSpec } from '../schedule/types.js';
import { scheduleParams } from './schedule_point.js';
import type { NewTrial } from './types.js';

/**
 * Checks `schedule` where the trainer's table will sample it, at every run length the study trains a trial at (its
 * `totalSteps`, and each final-validation multiple of them), so a bad value surfaces at the enqueue, not at an ask or
 * part-way through a trial: a formula over `step` does not stretch, so its values differ at each length. An external
 * study whose run length comes with each trainer's ask (`totalSteps` null) cannot check such a formula, so refuses it.
 */
export function checkEnqueuedSchedule(schedule: ScheduleSpec, totalSteps: number | null, multipliers: readonly number[]): void {
  if (totalSteps === null) {
    if (schedule.kind === 'formula' && usesRunLength(schedule)) {
      throw new ConfigError('schedule', "reads step or totalSteps, but this study's run length comes with each trainer's ask, so its values cannot be checked",
        'write the formula over t (step / totalSteps), which stretches to any run length');
    }
    scheduleTable(schedule, 1000);
    return;
  }
  for (const m of new Set([1, ...multipliers])) scheduleTable(schedule, totalSteps * m);
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
