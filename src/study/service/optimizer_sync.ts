// Keeps one optimizer per study in step with the stored trials (Vizier's DesignerPolicy: storage is the truth).
import type { GpSlice, Importance, Recommendation } from '../../optimizer/types.js';
import { isOpen } from '../../shared/attempts.js';
import { feedsOptimizer } from '../../shared/roles.js';
import type { Params, TrialRecord } from '../types.js';
import { SLICE_ITEMS, yieldToEventLoop } from '../../event_loop.js';

/** What the service needs from an optimizer (the optimizer package's BayesianOptimizer / RandomOptimizer). */
export interface SuggestingOptimizer {
  ask(count: number): Promise<{ id: string; params: Params }[]>;
  tell(id: string, value: number | null): Promise<void> | void;
  addObservation(params: Params, value: number | null): Promise<void> | void;
  addPending(params: Params): string;
  slices?(center: Params | undefined, points: number): Promise<unknown> | unknown;
  /** The best point by the model's posterior mean among those observed (or `among` them), with its prediction (see the optimizer package). */
  recommend?(among?: readonly Params[]): Promise<Recommendation | null>;
  /** Per-parameter importance shares (summing to 1) or why there are none (a flat model), or null without enough data. */
  importance?(): Promise<Importance | null>;
  /** Releases what the optimizer holds (a worker thread). */
  close?(): Promise<void>;
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

/** Trials the optimizer learns from: those whose role feeds it and whose params come from the space (baselines may have none). */
function feeds(t: TrialRecord): boolean {
  return feedsOptimizer(t.role) && Object.keys(t.params).length > 0;
}

/**
 * Wraps one study's optimizer and remembers which stored trials it has seen, so each `sync` only adds what
 * changed. Trials still WAITING/RUNNING go in as pending, so parallel asks spread out instead of repeating.
 */
export class StudyOptimizer {
  private readonly fed = new Map<number, 'pending' | 'done' | 'skipped'>();
  private readonly optIds = new Map<number, string>();

  constructor(readonly optimizer: SuggestingOptimizer) {}

  async sync(trials: readonly TrialRecord[]): Promise<void> {
    let added = 0;
    for (const t of trials) {
      if (!feeds(t)) continue;
      const seen = this.fed.get(t.id);
      if (seen === 'done' || seen === 'skipped') continue;
      // The first sync of a 100,000-trial study feeds them all: the server's event loop gets turns in between.
      if (++added % SLICE_ITEMS === 0) await yieldToEventLoop();
      try {
        if (isOpen(t.state)) {
          if (!seen) {
            this.optIds.set(t.id, this.optimizer.addPending(t.params));
            this.fed.set(t.id, 'pending');
          }
          continue;
        }
        const optId = this.optIds.get(t.id);
        if (optId !== undefined) await this.optimizer.tell(optId, observedValue(t));
        else await this.optimizer.addObservation(t.params, observedValue(t));
        this.fed.set(t.id, 'done');
      } catch (err) {
        // A stored point the optimizer rejects (e.g. outside a space narrowed later) must not block every
        // future ask of the study: it is left out of the model, like a baseline without params.
        if ((err as { code?: string }).code !== 'INVALID_CONFIG') throw err;
        this.fed.set(t.id, 'skipped');
      }
    }
  }

  async ask(count: number): Promise<{ id: string; params: Params }[]> {
    return await this.optimizer.ask(count);
  }

  /** Ties a suggestion (pending inside the optimizer under `optId`) to the trial stored for it. */
  bind(optId: string, trialId: number): void {
    this.optIds.set(trialId, optId);
    this.fed.set(trialId, 'pending');
  }

  async recommend(among?: readonly Params[]): Promise<Recommendation | null> {
    return this.optimizer.recommend ? this.optimizer.recommend(among) : null;
  }

  async importance(): Promise<Importance | null> {
    return this.optimizer.importance ? this.optimizer.importance() : null;
  }

  close(): void {
    // Closing is best effort: a worker that already died has nothing left to release.
    void this.optimizer.close?.().catch(() => undefined);
  }

  async slices(center: Params | undefined, points: number): Promise<GpSlice[] | undefined> {
    if (!this.optimizer.slices) return undefined;
    return (await this.optimizer.slices(center, points)) as GpSlice[] | undefined;
  }
}
