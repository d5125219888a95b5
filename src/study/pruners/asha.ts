// Asynchronous successive halving (Li et al. 2020, "A System for Massively Parallel Hyperparameter Tuning").
import type { Direction, IntermediateValue } from '../types.js';
import { expectInt } from '../../config/fields.js';
import { type Peers, type Pruner, isBetter } from './types.js';

export interface AshaPrunerOptions {
  /** Steps at the first rung. Default 50. */
  minResource?: number;
  /** η: rungs are η times apart and the top 1/η of each rung is promoted. Default 3. */
  reductionFactor?: number;
}

/**
 * Rungs sit at minResource·η^k steps. When a trial first reaches a rung, its value there is ranked against
 * every trial that has reached that rung (itself included, any state); it goes on only if it is in the top
 * 1/η (at least the single best when fewer than η trials got there). A trial's rung value is the first value
 * it reported at or after the rung step, so it never changes and the decision needs no stored pruner state.
 */
export class AshaPruner implements Pruner {
  readonly name = 'asha';
  private readonly minResource: number;
  private readonly eta: number;

  constructor(private readonly direction: Direction, opts: AshaPrunerOptions = {}) {
    this.minResource = expectInt(opts.minResource ?? 50, 'pruner.minResource', 1, undefined, 'use e.g. 50 (steps)');
    this.eta = expectInt(opts.reductionFactor ?? 3, 'pruner.reductionFactor', 2, undefined, 'use 3 or 4');
  }

  /** Step of rung k. */
  rungStep(k: number): number {
    return this.minResource * this.eta ** k;
  }

  async shouldPrune(trial: { intermediate: readonly IntermediateValue[] }, peers: Peers): Promise<boolean> {
    const curve = [...trial.intermediate].sort((a, b) => a.step - b.step);
    const latest = curve[curve.length - 1];
    if (!latest) return false;
    const previousStep = curve.length > 1 ? curve[curve.length - 2]!.step : -Infinity;

    // The rung (if any) crossed by the latest report; a report can cross several rungs at once
    // when evaluations are sparse, and then the highest one decides.
    let rung = -1;
    for (let k = 0; this.rungStep(k) <= latest.step; k++) if (this.rungStep(k) > previousStep) rung = k;
    if (rung < 0) return false;
    if (!Number.isFinite(latest.value)) return true;

    const step = this.rungStep(rung);
    const competitors = (await peers({ step, mode: 'firstAtOrAfter' })).filter((v) => Number.isFinite(v));
    const mine = rungValue(trial, step)!;
    competitors.push(mine);
    // Best first; the trial survives if it is at least as good as the k-th best, k = max(1, floor(n/η)).
    competitors.sort((a, b) => (isBetter(a, b, this.direction) ? -1 : isBetter(b, a, this.direction) ? 1 : 0));
    const k = Math.max(1, Math.floor(competitors.length / this.eta));
    return isBetter(competitors[k - 1]!, mine, this.direction);
  }
}

/** The first value a trial reported at or after `step`. */
function rungValue(t: { intermediate: readonly IntermediateValue[] }, step: number): number | undefined {
  let best: { step: number; value: number } | undefined;
  for (const iv of t.intermediate) if (iv.step >= step && (!best || iv.step < best.step)) best = iv;
  return best?.value;
}
