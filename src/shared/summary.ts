// The derived numbers of a study (counts, best, baselines), from its trials: the server's summaries and the live dashboard compute them alike.
import { baselineValues, bestTrial, compareTrials, isCandidate, type RankableTrial } from './best.js';
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

/**
 * `tally(trials)` after one trial changed from `was` (undefined: it is new) to `now`, given `before`, the tally of
 * the trials before that change: O(1) for the counts and, unless the change could demote the best trial or move a
 * baseline, for the rest; otherwise those parts are read again from `trials` (which already hold `now`). The live
 * dashboard applies one event per trial change, and a full tally of a 100,000-trial study costs milliseconds.
 */
export function retally<T extends RankableTrial & { id: number }>(
  before: TrialTally, was: T | undefined, now: T, trials: readonly T[], direction: Direction,
): TrialTally {
  const counts = { ...before.counts };
  if (was) countTrials(counts, was.role, was.state, -1);
  countTrials(counts, now.role, now.state);
  let best = before.best;
  if (best && was && was.id === best.trialId) {
    // The best trial changed: it may no longer be the best, and who is cannot be told without a look at them all.
    const top = bestTrial(trials, direction);
    best = top ? { trialId: top.id, number: top.number, value: top.value! } : null;
  } else if (isCandidate(now) && (!best || compareTrials(now, { number: best.number, value: best.value, state: 'COMPLETE', role: 'search' }, direction) < 0)) {
    best = { trialId: now.id, number: now.number, value: now.value! };
  }
  const touchesBaseline = roleKind(now.role) === 'baseline' || (was !== undefined && roleKind(was.role) === 'baseline');
  return { counts, best, baselines: touchesBaseline ? baselineValues(trials) : before.baselines };
}
