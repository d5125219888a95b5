// A schedule a person queues by hand (Optuna's enqueue_trial): the new trial, with the point of the study's space it equals when there is one.
import { ConfigError } from '../errors.js';
import type { SearchSpace } from '../optimizer/index.js';
import type { ScheduleSpec } from '../schedule/types.js';
import { scheduleParams } from './schedule_point.js';
import type { NewTrial } from './types.js';

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
