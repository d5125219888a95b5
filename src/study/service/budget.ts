// The trial budget of an external study, enforced at `ask` (the local runner sizes its own asks from the same rule).
import { ConflictError } from '../../errors.js';
import type { StudyConfig } from '../config.js';
import type { TrialRecord } from '../types.js';
import { isFinalRun } from './views.js';

/** 409 like any state conflict, with its own code so a client can tell "stop asking" from "that trial is finished". */
export class BudgetExhaustedError extends ConflictError {
  override readonly code = 'BUDGET_EXHAUSTED';
  constructor(studyName: string, budget: number) {
    super(`study '${studyName}' has used its whole budget of ${budget} trials (fix: read the results, or start a new study with a larger budget.trials)`);
  }
}

/**
 * How many of `count` requested trials an external study may still create: all of them, what is left of
 * `budget.trials` (a partial grant: the reply simply holds fewer trials), or a BudgetExhaustedError when nothing
 * is left. Every created trial counts, finished or not (as in the runner: baselines yes, `final:*` reruns no), so
 * a client that asks and never tells still uses up the budget. A time budget is not enforced here.
 */
export function grantTrials(studyName: string, config: StudyConfig, trials: readonly TrialRecord[], count: number): number {
  if (config.executor !== 'external' || config.budget.trials === undefined) return count;
  const left = config.budget.trials - trials.filter((t) => !isFinalRun(t)).length;
  if (left <= 0) throw new BudgetExhaustedError(studyName, config.budget.trials);
  return Math.min(count, left);
}
