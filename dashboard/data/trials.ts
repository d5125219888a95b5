// Classifies a study's trials (baselines, search, final validation) and ranks them by the study's direction.
import type { Direction, TrialRecord } from '../types.js';

export type TrialRole = 'batchnorm' | 'paper' | 'search' | 'final';

export function trialRole(t: Pick<TrialRecord, 'label'>): TrialRole {
  if (t.label === 'batchnorm') return 'batchnorm';
  if (t.label === 'paper') return 'paper';
  if (t.label && t.label.startsWith('final:')) return 'final';
  return 'search';
}

/** Trials that take part in the optimisation (baselines included), ordered by number; final-validation reruns excluded. */
export function optimizationTrials(trials: readonly TrialRecord[]): TrialRecord[] {
  return trials.filter((t) => trialRole(t) !== 'final').sort((a, b) => a.number - b.number);
}

export function hasValue(t: Pick<TrialRecord, 'value'>): t is { value: number } {
  return typeof t.value === 'number' && Number.isFinite(t.value);
}

/** True when `a` is better than `b` for the direction. */
export function better(direction: Direction, a: number, b: number): boolean {
  return direction === 'maximize' ? a > b : a < b;
}

/** Complete non-final trials sorted best first. */
export function rankedTrials(trials: readonly TrialRecord[], direction: Direction): TrialRecord[] {
  return trials
    .filter((t) => t.state === 'COMPLETE' && hasValue(t) && trialRole(t) !== 'final')
    .sort((a, b) => (direction === 'maximize' ? (b.value as number) - (a.value as number) : (a.value as number) - (b.value as number)) || a.number - b.number);
}

/** The best `n` search trials plus the baselines (each at most once), so a chart stays readable with hundreds of trials. */
export function topTrialsWithBaselines(trials: readonly TrialRecord[], direction: Direction, n: number): TrialRecord[] {
  const ranked = rankedTrials(trials, direction).filter((t) => trialRole(t) === 'search');
  const top = ranked.slice(0, n);
  const baselines = optimizationTrials(trials).filter((t) => trialRole(t) === 'batchnorm' || trialRole(t) === 'paper');
  return [...top, ...baselines];
}

/** Baseline values found among the trials (the StudySummary carries them too; this is the fallback when it does not). */
export function baselineValues(trials: readonly TrialRecord[]): { batchnorm: number | null; paper: number | null } {
  const find = (label: string) => {
    const t = trials.find((x) => x.label === label && x.state === 'COMPLETE' && hasValue(x));
    return t ? (t.value as number) : null;
  };
  return { batchnorm: find('batchnorm'), paper: find('paper') };
}

/** A trial's display name: its label for baselines, else `#number`. */
export function trialName(t: Pick<TrialRecord, 'label' | 'number'>): string {
  const role = trialRole(t);
  if (role === 'batchnorm') return 'BatchNorm';
  if (role === 'paper') return 'Paper (Ioffe 2017)';
  if (role === 'final') return `${t.label} #${t.number}`;
  return `#${t.number}`;
}

/** Inference-mode and training-mode accuracy of one progress report; the trainer reports both (see TrainProgress). */
export function accuracies(iv: { value: number; metrics?: Record<string, unknown> }): { inference: number | null; train: number | null } {
  const m = iv.metrics ?? {};
  const inference = typeof m.valAccuracy === 'number' ? m.valAccuracy : Number.isFinite(iv.value) ? iv.value : null;
  const train = typeof m.valAccuracyTrainMode === 'number' ? m.valAccuracyTrainMode : null;
  return { inference, train };
}
