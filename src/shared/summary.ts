// The derived numbers of a study (counts, best, baselines), from its trials: the server's summaries and the live dashboard compute them alike.
import { baselineValues, bestTrial, type RankableTrial } from './best.js';
import type { Direction } from './names.js';
import { roleKind } from './roles.js';

export type TrialCounts = Record<'WAITING' | 'RUNNING' | 'COMPLETE' | 'PRUNED' | 'FAIL', number>;

export interface TrialTally {
  counts: TrialCounts;
  best: { trialId: number; number: number; value: number } | null;
  baselines: { batchnorm: number | null; paper: number | null };
}

export const noTrials = (): TrialCounts => ({ WAITING: 0, RUNNING: 0, COMPLETE: 0, PRUNED: 0, FAIL: 0 });

/** Counts cover the search (baselines included); final-validation reruns and warm starts are not search progress. */
export function countTrials(counts: TrialCounts, role: string, state: string, n = 1): void {
  const kind = roleKind(role);
  if ((kind === 'search' || kind === 'baseline') && state in counts) counts[state as keyof TrialCounts] += n;
}

export function tally(trials: readonly (RankableTrial & { id: number })[], direction: Direction): TrialTally {
  const counts = noTrials();
  for (const t of trials) countTrials(counts, t.role, t.state);
  const best = bestTrial(trials, direction);
  return { counts, best: best ? { trialId: best.id, number: best.number, value: best.value! } : null, baselines: baselineValues(trials) };
}
