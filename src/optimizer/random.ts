// Random search: the baseline every other optimizer must beat. Uniform (log-uniform for log params), seeded.
import type { Rng } from '../gp/rng.js';
import type { Params } from './types.js';
import { BaseOptimizer, checkState } from './base.js';
import type { GpSlice, OptimizerState } from './types.js';

export class RandomOptimizer extends BaseOptimizer {
  readonly name = 'random' as const;

  protected propose(rng: Rng): Float64Array {
    return this.space.sampleUniform(rng);
  }

  /** Random search has no model to show. */
  async slices(_center?: Params, _points?: number): Promise<GpSlice[] | null> {
    return null;
  }

  static fromJSON(json: unknown): RandomOptimizer {
    const s: OptimizerState = checkState(json, 'random');
    const opt = new RandomOptimizer(s.options);
    opt.restoreLedger(s);
    return opt;
  }
}
