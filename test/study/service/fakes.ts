// Test doubles for the service: a recording optimizer with a slow async ask (to expose races) and matching deps.
import type { ServiceDeps } from '../../../src/study/service.js';
import type { SuggestingOptimizer } from '../../../src/study/service/optimizer_sync.js';
import type { Params } from '../../../src/study/types.js';
import { validateStudyConfig, type StudyConfig } from '../../../src/study/config.js';

export class RecordingOptimizer implements SuggestingOptimizer {
  next = 0;
  pending = new Map<string, Params>();
  observations: { params: Params; value: number | null }[] = [];
  /** How many points were pending when each ask started: proves asks were serialized. */
  pendingAtAsk: number[] = [];

  async ask(count: number): Promise<{ id: string; params: Params }[]> {
    this.pendingAtAsk.push(this.pending.size);
    await new Promise((r) => setTimeout(r, 5));
    return Array.from({ length: count }, () => {
      const n = this.next++;
      const id = `t${n}`;
      // Distinct points drifting away from the fake trainer's optimum (rmax 3, dmax 5): early ones beat the baselines.
      const params = { rmaxFinal: 3 + 0.1 * n, dmaxFinal: 5 - 0.1 * n, warmup: 0.1, rmaxEnd: 0.8, dmaxEnd: 0.5, shape: 'linear' };
      this.pending.set(id, params);
      return { id, params };
    });
  }
  tell(id: string, value: number | null): void {
    const params = this.pending.get(id);
    if (!params) throw new Error(`tell of unknown id ${id}`);
    this.pending.delete(id);
    this.observations.push({ params, value });
  }
  addObservation(params: Params, value: number | null): void {
    this.observations.push({ params, value });
  }
  addPending(params: Params): string {
    const id = `t${this.next++}`;
    this.pending.set(id, params);
    return id;
  }
}

export function fakeDeps(made: RecordingOptimizer[] = []): ServiceDeps {
  return {
    createOptimizer: () => {
      const o = new RecordingOptimizer();
      made.push(o);
      return o;
    },
    paramsToSchedule: (p) => ({
      schedule: { kind: 'ramp', shape: 'linear', warmup: Number(p.warmup), rmaxFinal: Number(p.rmaxFinal), rmaxEnd: Number(p.rmaxEnd), dmaxFinal: Number(p.dmaxFinal), dmaxEnd: Number(p.dmaxEnd) },
    }),
    buildExport: () => {
      throw new Error('not used');
    },
  };
}

/** A raw config (as a user writes it) for tests that exercise validation. */
export const rawConfig = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  name: `s${Math.random().toString(36).slice(2, 8)}`,
  scenario: { steps: 20, evalInterval: 5 },
  budget: { trials: 10 },
  // No evidence phase unless a test asks for one (then: finalValidation {seeds, race}).
  finalValidation: { seeds: 0, race: { candidates: 1 } },
  ...over,
});

/** A validated config, as the edges (CLI, routes) hand it to the service. */
export const baseConfig = (over: Record<string, unknown> = {}): StudyConfig => validateStudyConfig(rawConfig(over));
