// Hand-made trial records for the evidence tests (final runs, race runs, search trials), numbered in creation order.
import type { ScheduleSpec } from '../../../src/schedule/types.js';
import type { TrialRecord, TrialRole, TrialState } from '../../../src/study/types.js';

export function trialMaker() {
  let next = 0;
  return (role: TrialRole, value: number | null, o: { seed?: number; state?: TrialState; schedule?: ScheduleSpec; params?: Record<string, number> } = {}): TrialRecord => {
    const n = next++;
    return {
      id: 100 + n, studyId: 's', number: n, state: o.state ?? (value === null ? 'FAIL' : 'COMPLETE'), role, params: o.params ?? {},
      schedule: o.schedule ?? { kind: 'ramp', shape: 'linear', warmup: 0.1, rmaxFinal: 2 + n / 10, rmaxEnd: 0.8, dmaxFinal: 5, dmaxEnd: 0.5 },
      value, failureReason: value === null ? 'diverged' : null, seed: o.seed ?? n, metrics: null, intermediate: [], lease: null, retries: 0, claims: 0,
      pruneRequested: false, createdAt: '', startedAt: null, finishedAt: null,
    };
  };
}
