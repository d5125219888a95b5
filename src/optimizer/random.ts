// Random search: the baseline every other optimizer must beat. Uniform (log-uniform for log params), seeded.
import type { GpSlice, Params, Recommendation } from './types.js';
import { BaseOptimizer } from './base.js';
import type { Model } from './model.js';

export class RandomOptimizer extends BaseOptimizer {
  readonly name = 'random' as const;

  suggest(count: number): Params[] {
    const taken = new Set<string>();
    const out: Params[] = [];
    for (let b = 0; b < count; b++) {
      const rng = this.rngFor(b);
      const p = this.distinct(this.space.decode(this.space.sampleUniform(rng)), rng, taken);
      taken.add(this.space.key(p));
      out.push(p);
    }
    return out;
  }

  /** Random search has no model to show. */
  async slices(_center?: Params, _points?: number): Promise<GpSlice[] | null> {
    return null;
  }

  /** Random search has no model of the objective: the best measured value, with sd null (it may be a lucky draw). */
  async recommend(among?: readonly Params[]): Promise<Recommendation | null> {
    return this.bestObserved(among);
  }

  /**
   * Importance is a property of the data, not of how points were chosen: a GP is fitted to the observations on
   * demand (the same model the GP optimizer uses), once there are as many as the GP's initial design.
   */
  protected importanceModel(): Model {
    return this.fitModel(this.ledger.observations, this.opts.seed, null);
  }
}
