// Hand-made trials for pruner tests: a curve is a list of [step, value] pairs.
import type { TrialRecord, TrialState } from '../../../src/study/types.js';

let nextId = 1;

export function mkTrial(curve: [number, number][], state: TrialState = 'COMPLETE', label: string | null = null): TrialRecord {
  const id = nextId++;
  return {
    id,
    studyId: 's',
    number: id,
    state,
    params: {},
    schedule: { kind: 'batchnorm' },
    label,
    value: curve.length ? curve[curve.length - 1]![1] : null,
    failureReason: null,
    seed: 0,
    metrics: null,
    intermediate: curve.map(([step, value]) => ({ step, value })),
    createdAt: '',
    startedAt: null,
    finishedAt: null,
  };
}
