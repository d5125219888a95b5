// The two automatic baseline trials every study measures itself against, with the points of the search space they equal.
import type { SearchSpace } from '../optimizer/index.js';
import { DEFAULT_RENORM_MOMENTUM } from '../shared/names.js';
import { baselineRole, BASELINES } from '../shared/roles.js';
import { scheduleParams } from './schedule_point.js';
import type { NewTrial } from './types.js';

/**
 * The baselines as new trials, keyed by role so they are created once however often this is called; seeds come
 * from their numbers. They are stored with their exact schedules (`batchnorm`, `paper`) and, so that the optimizer
 * can learn from them too, the point of the ramp space each equals (scheduleParams); where the (possibly narrowed)
 * space does not hold it, params are {} (or only a fixed momentum) and the optimizer skips the trial.
 */
export function baselineTrials(space: SearchSpace, defaultMomentum = DEFAULT_RENORM_MOMENTUM): NewTrial[] {
  // A space that fixes the momentum (`"renormMomentum": 0.9`) says what every trial trains with, the baselines too:
  // at the default they differed from the tuned trials in two things, and the verdict could not say which counted.
  const fixed = fixedMomentum(space);
  const momentum = fixed ?? defaultMomentum;
  return BASELINES.map((name) => ({
    state: 'WAITING' as const,
    role: baselineRole(name),
    key: baselineRole(name),
    schedule: { kind: name },
    params: scheduleParams({ kind: name }, space, momentum) ?? (fixed === undefined ? {} : { renormMomentum: fixed }),
  }));
}

/** The momentum a space fixes (a one-choice numeric renormMomentum), if it does. */
function fixedMomentum(space: SearchSpace): number | undefined {
  const spec = space.renormMomentum;
  return spec?.type === 'categorical' && spec.choices.length === 1 && typeof spec.choices[0] === 'number' ? spec.choices[0] : undefined;
}
