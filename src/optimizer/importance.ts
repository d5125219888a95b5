// Parameter importance of a fitted model: total-order Sobol indices of its posterior mean, keyed by parameter name.
import { totalSobolImportance } from '../gp/importance.js';
import { mixSeed } from '../gp/rng.js';
import type { Model } from './model.js';
import type { EncodedSpace } from './space.js';

/**
 * Computed on the warped, standardized scale the GP is fitted on: a monotone warp keeps which parameter moves
 * the objective, and a tail of huge bad values cannot claim all the variance for the parameter that causes it.
 */
export function modelImportance(space: EncodedSpace, model: Model, seed: number): Record<string, number> {
  // ~9,000 posterior means: computed once per fitted model (the optimizers refit only when observations change),
  // so a dashboard polling the importance does not redo it while the study's asks wait.
  const bySeed = computed.get(model) ?? new Map<number, Float64Array>();
  computed.set(model, bySeed);
  let st = bySeed.get(seed);
  if (!st) {
    st = totalSobolImportance((x) => model.gp.predictMean(x), space.dims, { seed: mixSeed(seed, 0x1a9) });
    bySeed.set(seed, st);
  }
  const shares = st;
  return Object.fromEntries(space.names.map((name, j) => [name, shares[j]!]));
}

const computed = new WeakMap<Model, Map<number, Float64Array>>();
