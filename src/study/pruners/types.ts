// The pruner contract: one stateless decision per progress report, computed from the stored trials alone.
import type { Direction, TrialRecord } from '../types.js';

/**
 * Optuna-style: `shouldPrune` looks at the trial's stored curve and the other trials of the study and
 * returns true when the trial should stop early. Pruners keep no state of their own, so a resumed study
 * (or a second process reading the same database) makes the same decisions.
 */
export interface Pruner {
  readonly name: string;
  shouldPrune(trial: TrialRecord, allTrials: readonly TrialRecord[]): boolean;
}

/** True when `a` is strictly better than `b` in the study's direction. */
export function isBetter(a: number, b: number, direction: Direction): boolean {
  return direction === 'maximize' ? a > b : a < b;
}

/** Final-validation runs are scored on another set and must not steer pruning. */
export function isSearchTrial(t: TrialRecord): boolean {
  return !(t.label ?? '').startsWith('final:');
}

/** Baselines run to the end whatever their curve: they are the yardstick the study is judged against. */
export function isBaseline(t: TrialRecord): boolean {
  return t.label === 'batchnorm' || t.label === 'paper';
}

/** The trial's value at exactly `step`, or undefined when it did not report that step. */
export function valueAt(t: TrialRecord, step: number): number | undefined {
  for (const iv of t.intermediate) if (iv.step === step) return iv.value;
  return undefined;
}

export function lastStep(t: TrialRecord): number | undefined {
  let last: number | undefined;
  for (const iv of t.intermediate) if (last === undefined || iv.step > last) last = iv.step;
  return last;
}
