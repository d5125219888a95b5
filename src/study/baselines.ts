// The two automatic baseline trials every study measures itself against, with the points of the search space they equal.
import { DEFAULT_RENORM_MOMENTUM } from '../shared/names.js';
import { baselineRole, BASELINES, type BaselineName } from '../shared/roles.js';
import type { NewTrial, Params } from './types.js';

/**
 * Baselines are stored with their exact schedules (`batchnorm`, `paper`). So that the optimizer can learn from
 * them too, they also carry the equivalent point of the ramp space when the study's space contains it:
 * BatchNorm = a ramp to rmax 1, dmax 0; the paper = a linear ramp with warm-up 0.1, rmax 3 by 0.8 and dmax 5
 * by 0.5. A point outside the (possibly narrowed) space is left out (params {}), and the service skips it.
 */
export const BASELINE_EQUIVALENTS: Record<BaselineName, Params> = {
  batchnorm: { warmup: 0, rmaxFinal: 1, rmaxEndFrac: 1, dmaxFinal: 0, dmaxEndFrac: 1, shape: 'linear' },
  paper: { warmup: 0.1, rmaxFinal: 3, rmaxEndFrac: (0.8 - 0.1) / 0.9, dmaxFinal: 5, dmaxEndFrac: (0.5 - 0.1) / 0.9, shape: 'linear' },
};

export type SpaceLike = Record<string, { type: string; low?: number; high?: number; choices?: readonly (number | string)[] }>;

/** The equivalent params if every one lies inside `space` and the space has no parameter they cannot fix. */
export function equivalentParams(which: BaselineName, space: SpaceLike | undefined, renormMomentum: number | undefined): Params {
  if (!space) return {};
  const p: Params = { ...BASELINE_EQUIVALENTS[which] };
  if ('renormMomentum' in space) {
    if (renormMomentum === undefined) return {};
    p.renormMomentum = renormMomentum;
  }
  for (const [name, spec] of Object.entries(space)) {
    const v = p[name];
    if (v === undefined) return {};
    if (spec.type === 'categorical' ? !spec.choices?.includes(v) : typeof v !== 'number' || v < spec.low! || v > spec.high!) return {};
  }
  return p;
}

/** The baselines as new trials, keyed by role so they are created once however often this is called. Seeds come from their numbers. */
export function baselineTrials(space: SpaceLike | undefined, defaultMomentum = DEFAULT_RENORM_MOMENTUM): NewTrial[] {
  return BASELINES.map((name) => ({
    state: 'WAITING' as const,
    role: baselineRole(name),
    key: baselineRole(name),
    schedule: { kind: name },
    params: equivalentParams(name, space, defaultMomentum),
  }));
}
