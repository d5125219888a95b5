// Classifies a study's trials for the charts (baselines, search, final validation) and ranks them, on the shared role and best-trial rules.
import { isBetter, rankTrials } from '../../src/shared/best.js';
import { BASELINE_LABELS, baselineOf, isEvidenceRole, roleLabel } from '../../src/shared/roles.js';
import type { Direction, TrialRecord } from '../types.js';

export { baselineValues } from '../../src/shared/best.js';
export { topTrialsWithBaselines } from '../../src/shared/charted.js';

/** The four groups the charts draw differently (warm starts draw as search trials; `final` = the evidence reruns, race runs included). */
export type ChartRole = 'batchnorm' | 'paper' | 'search' | 'final';

export function trialRole(t: Pick<TrialRecord, 'role'>): ChartRole {
  const b = baselineOf(t.role);
  if (b) return b;
  return isEvidenceRole(t.role) ? 'final' : 'search';
}

/** Trials that take part in the optimisation (baselines included), ordered by number; race and final-validation reruns excluded. */
export function optimizationTrials(trials: readonly TrialRecord[]): TrialRecord[] {
  return trials.filter((t) => trialRole(t) !== 'final').sort((a, b) => a.number - b.number);
}

export function hasValue(t: Pick<TrialRecord, 'value'>): t is { value: number } {
  return typeof t.value === 'number' && Number.isFinite(t.value);
}

/** True when `a` is better than `b` for the direction. */
export function better(direction: Direction, a: number, b: number): boolean {
  return isBetter(a, b, direction);
}

/** Completed search and baseline trials, best first (the one rule of src/shared/best.ts). */
export function rankedTrials(trials: readonly TrialRecord[], direction: Direction): TrialRecord[] {
  return rankTrials(trials, direction);
}

/** A trial's display name in legends and tables: the baseline's name, else `#number` (with the arm, or the raced trial, for reruns). */
export function trialName(t: Pick<TrialRecord, 'role' | 'number'>): string {
  const b = baselineOf(t.role);
  if (b) return BASELINE_LABELS[b].title;
  return trialRole(t) === 'final' ? `${roleLabel(t.role)} #${t.number}` : `#${t.number}`;
}

/** Inference-mode and training-mode accuracy of one progress report; the trainer reports both (see TrainProgress). */
export function accuracies(iv: { value: number; metrics?: Record<string, unknown> }): { inference: number | null; train: number | null } {
  const m = iv.metrics ?? {};
  const inference = typeof m.valAccuracy === 'number' ? m.valAccuracy : Number.isFinite(iv.value) ? iv.value : null;
  const train = typeof m.valAccuracyTrainMode === 'number' ? m.valAccuracyTrainMode : null;
  return { inference, train };
}
