// Hand-made trials for pruner tests (a curve is a list of [step, value] pairs) and peer queries answered over them, as a storage would.
import { isPrunable } from '../../../src/shared/roles.js';
import type { Peers, Pruner } from '../../../src/study/pruners/index.js';
import type { TrialRecord, TrialRole, TrialState } from '../../../src/study/types.js';

let nextId = 1;

export function mkTrial(curve: [number, number][], state: TrialState = 'COMPLETE', role: TrialRole = 'search'): TrialRecord {
  const id = nextId++;
  return {
    id,
    studyId: 's',
    number: id,
    state,
    role,
    params: {},
    schedule: { kind: 'batchnorm' },
    value: curve.length ? curve[curve.length - 1]![1] : null,
    failureReason: null,
    seed: 0,
    metrics: null,
    intermediate: curve.map(([step, value]) => ({ step, value })),
    lease: null,
    retries: 0, claims: 0,
    pruneRequested: false,
    createdAt: '',
    startedAt: null,
    finishedAt: null,
  };
}

/** The PeerQuery semantics of every Storage (see the conformance suite), over a list of trials. */
export function peersOf(all: readonly TrialRecord[], self: TrialRecord): Peers {
  return async (q) => {
    const out: number[] = [];
    for (const t of all) {
      if (t.id === self.id || !isPrunable(t.role) || (q.states && !q.states.includes(t.state))) continue;
      const hits = t.intermediate.filter((iv) => (q.mode === 'at' ? iv.step === q.step : iv.step >= q.step)).sort((a, b) => a.step - b.step);
      if (hits.length) out.push(hits[0]!.value);
    }
    return out;
  };
}

/** `pruner`'s decision on `trial` among `all`. */
export function decide(pruner: Pruner, trial: TrialRecord, all: readonly TrialRecord[]): Promise<boolean> {
  return pruner.shouldPrune(trial, peersOf(all, trial));
}
