// Keeps one optimizer per study in step with the stored trials (Vizier's DesignerPolicy: storage is the truth).
import type { GpView } from '../api_types.js';
import type { Params, TrialRecord } from '../types.js';
import { isFinalRun } from './views.js';

/** What the service needs from an optimizer (the optimizer package's BayesianOptimizer / RandomOptimizer). */
export interface SuggestingOptimizer {
  ask(count: number): Promise<{ id: number; params: Params }[]> | { id: number; params: Params }[];
  tell(id: number, value: number | null): void;
  addObservation(params: Params, value: number | null): void;
  addPending(params: Params): number;
  slices?(center: Params | undefined, points: number): unknown;
}

/**
 * What a finished trial tells the optimizer. COMPLETE: its value. PRUNED: its last intermediate value (stored
 * as the trial's value) — curves improve with training, so this is a pessimistic but informative score for a
 * schedule the pruner judged poor. FAIL: null, and the optimizer decides how to treat failures.
 */
export function observedValue(t: TrialRecord): number | null {
  if (t.state === 'FAIL') return null;
  return t.value ?? null;
}

/** Trials the optimizer learns from: search trials whose params come from the space (baselines may have none). */
function feeds(t: TrialRecord): boolean {
  return !isFinalRun(t) && Object.keys(t.params).length > 0;
}

/**
 * Wraps one study's optimizer and remembers which stored trials it has seen, so each `sync` only adds what
 * changed. Trials still WAITING/RUNNING go in as pending, so parallel asks spread out instead of repeating.
 */
export class StudyOptimizer {
  private readonly fed = new Map<number, 'pending' | 'done'>();
  private readonly optIds = new Map<number, number>();

  constructor(readonly optimizer: SuggestingOptimizer) {}

  sync(trials: readonly TrialRecord[]): void {
    for (const t of trials) {
      if (!feeds(t)) continue;
      const seen = this.fed.get(t.id);
      if (t.state === 'WAITING' || t.state === 'RUNNING') {
        if (!seen) {
          this.optIds.set(t.id, this.optimizer.addPending(t.params));
          this.fed.set(t.id, 'pending');
        }
        continue;
      }
      if (seen === 'done') continue;
      const optId = this.optIds.get(t.id);
      if (optId !== undefined) this.optimizer.tell(optId, observedValue(t));
      else this.optimizer.addObservation(t.params, observedValue(t));
      this.fed.set(t.id, 'done');
    }
  }

  async ask(count: number): Promise<{ id: number; params: Params }[]> {
    return await this.optimizer.ask(count);
  }

  /** Ties a suggestion (pending inside the optimizer under `optId`) to the trial stored for it. */
  bind(optId: number, trialId: number): void {
    this.optIds.set(trialId, optId);
    this.fed.set(trialId, 'pending');
  }

  async slices(center: Params | undefined, points: number): Promise<GpView['slices'] | undefined> {
    if (!this.optimizer.slices) return undefined;
    return (await this.optimizer.slices(center, points)) as GpView['slices'];
  }
}
