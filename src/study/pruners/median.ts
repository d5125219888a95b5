// The median stopping rule (Golovin et al. 2017, as in Optuna's MedianPruner).
import type { Direction, IntermediateValue } from '../types.js';
import { expectInt } from '../../config/fields.js';
import { type Peers, type Pruner, isBetter, lastStep } from './types.js';

export interface MedianPrunerOptions {
  /** Steps before which no trial is pruned: early curves are too noisy to rank. Default 0. */
  warmupSteps?: number;
  /** COMPLETE trials needed before pruning starts, and trials that must have reported the step. Default 3. */
  minTrials?: number;
}

/**
 * Prunes a trial when its best value so far is worse than the median of the COMPLETE trials' values at the
 * same step. Only exact step matches are compared: all trials of a study share the scenario, so they report
 * the same evaluation steps, and comparing against an earlier point of someone else's curve would be unfair.
 */
export class MedianPruner implements Pruner {
  readonly name = 'median';
  private readonly warmupSteps: number;
  private readonly minTrials: number;

  constructor(private readonly direction: Direction, opts: MedianPrunerOptions = {}) {
    this.warmupSteps = expectInt(opts.warmupSteps ?? 0, 'pruner.warmupSteps', 0, undefined, 'use e.g. 0 or 50');
    this.minTrials = expectInt(opts.minTrials ?? 3, 'pruner.minTrials', 1, undefined, 'use e.g. 3');
  }

  async shouldPrune(trial: { intermediate: readonly IntermediateValue[] }, peers: Peers): Promise<boolean> {
    const step = lastStep(trial);
    if (step === undefined || step < this.warmupSteps) return false;

    // COMPLETE peers that reported this very step: fewer than minTrials of them is too little to judge by.
    const others = (await peers({ step, mode: 'at', states: ['COMPLETE'] })).filter((v) => Number.isFinite(v));
    if (others.length < this.minTrials) return false;

    const best = bestSoFar(trial, step, this.direction);
    if (best === undefined) return true; // only NaN so far: the run is broken
    return isBetter(median(others), best, this.direction);
  }
}

function bestSoFar(trial: { intermediate: readonly IntermediateValue[] }, step: number, direction: Direction): number | undefined {
  let best: number | undefined;
  for (const iv of trial.intermediate) {
    if (iv.step > step || !Number.isFinite(iv.value)) continue;
    if (best === undefined || isBetter(iv.value, best, direction)) best = iv.value;
  }
  return best;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
