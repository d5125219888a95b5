// The final-validation report (paired arms, comparisons, verdicts), how to read any stored version of it, and how to say it in words; browser-safe.
import type { Direction } from './names.js';
import { BASELINE_LABELS, finalArmOf } from './roles.js';

export type Verdict = 'better' | 'worse' | 'indistinguishable';
export type FinalArmName = 'batchnorm' | 'paper' | 'best';
export const FINAL_ARMS: readonly FinalArmName[] = ['batchnorm', 'paper', 'best'];

/** One arm's test results, `values` aligned with the report's `seeds` (null: that run has not finished, or failed). */
export interface ArmScore {
  values: (number | null)[];
  mean: number | null;
  /** 95% interval of the mean, inside the metric's range; null below two values. */
  ci: [number, number] | null;
  n: number;
}

/** `a` against `b` on the seeds both have: meanDiff = mean of the per-seed differences a - b. */
export interface Comparison {
  a: 'best';
  b: 'paper' | 'batchnorm';
  meanDiff: number | null;
  ci: [number, number] | null;
  /** Agrees with the interval: better/worse only when it excludes 0. */
  verdict: Verdict;
  n: number;
  /** Per-seed differences, aligned with `seeds`. */
  diffs: (number | null)[];
}

/** The arms and comparisons at one run length: scenario.steps x multiplier. */
export interface MultiplierResult {
  multiplier: number;
  steps: number | null;
  arms: Partial<Record<FinalArmName, ArmScore>>;
  comparisons: Comparison[];
}

/** attrs.finalValidation as written since paired final validation (version 2). */
export interface FinalValidationReport {
  version: 2;
  /** The metric the final runs report (the trainer's testAccuracy; an outside trainer's objective on its test set). */
  metric: string;
  direction: Direction;
  range: [number | null, number | null];
  /** How the intervals were computed, in words. */
  interval: string;
  /** The fresh seeds every arm was retrained on (the same for each arm and run length). */
  seeds: number[];
  stepsMultipliers: number[];
  /** At the study's own run length (multiplier 1). */
  arms: Partial<Record<FinalArmName, ArmScore>>;
  comparisons: Comparison[];
  /** Every run length, multiplier 1 first. */
  byMultiplier: MultiplierResult[];
  /** The tuned trial whose schedule is the `best` arm, and how it was chosen. */
  best: { trialId: number | null; trialNumber: number | null; pickedBy: string } | null;
  /** Final runs not finished yet: the report is provisional while this is above 0. */
  pending: number;
  /** Same as best.trialId / best.trialNumber, for readers of the first shape. */
  trialId?: number;
  trialNumber?: number;
}

/** The first shape (before pairing): each arm with its own t-interval, no comparison. */
export interface FinalScore {
  values: number[];
  mean: number;
  ci: [number, number];
}
export interface LegacyFinalValidation {
  batchnorm?: FinalScore;
  paper?: FinalScore;
  best?: FinalScore;
  trialId?: number;
  trialNumber?: number;
}

export type StoredFinalValidation = FinalValidationReport | LegacyFinalValidation;

/** Any stored report, as every viewer (CLI, export, dashboard) reads it. */
export interface FinalReading {
  /** False for a study stored before pairing: no comparison, no verdict. */
  paired: boolean;
  metric: string;
  direction: Direction;
  /** True when values are fractions in [0, 1] (shown as percentage points). */
  fraction: boolean;
  seeds: number[];
  groups: MultiplierResult[];
  pending: number;
  bestTrialNumber: number | null;
}

export function isPairedReport(raw: unknown): raw is FinalValidationReport {
  const r = raw as Partial<FinalValidationReport> | null;
  return !!r && typeof r === 'object' && r.version === 2 && typeof r.arms === 'object' && Array.isArray(r.byMultiplier);
}

/** Null when there is nothing to show (no report, or no arm with a value). */
export function readFinalValidation(raw: unknown): FinalReading | null {
  if (!raw || typeof raw !== 'object') return null;
  if (isPairedReport(raw)) {
    const groups = raw.byMultiplier.filter((g) => Object.values(g.arms).some((a) => a && a.n > 0));
    if (groups.length === 0) return null;
    const [lo, hi] = raw.range ?? [null, null];
    return {
      paired: true, metric: raw.metric, direction: raw.direction ?? 'maximize', fraction: lo === 0 && hi === 1, seeds: raw.seeds, groups, pending: raw.pending ?? 0,
      bestTrialNumber: raw.best?.trialNumber ?? null,
    };
  }
  const legacy = raw as LegacyFinalValidation;
  const arms: Partial<Record<FinalArmName, ArmScore>> = {};
  for (const arm of FINAL_ARMS) {
    const s = legacy[arm];
    if (!s || !Array.isArray(s.values) || typeof s.mean !== 'number' || !Number.isFinite(s.mean)) continue;
    const ci = Array.isArray(s.ci) && typeof s.ci[0] === 'number' && typeof s.ci[1] === 'number' && Number.isFinite(s.ci[0]) ? s.ci : null;
    arms[arm] = { values: s.values, mean: s.mean, ci, n: s.values.length };
  }
  if (Object.keys(arms).length === 0) return null;
  return {
    paired: false, metric: 'testAccuracy', direction: 'maximize', fraction: true, seeds: [], groups: [{ multiplier: 1, steps: null, arms, comparisons: [] }], pending: 0,
    bestTrialNumber: typeof legacy.trialNumber === 'number' ? legacy.trialNumber : null,
  };
}

export const ARM_LABELS: Readonly<Record<FinalArmName, string>> = { batchnorm: BASELINE_LABELS.batchnorm.prose, paper: BASELINE_LABELS.paper.prose, best: 'the tuned schedule' };

/** `better than BatchNorm`, `indistinguishable from the paper schedule`. */
export function verdictPhrase(c: Pick<Comparison, 'b' | 'verdict'>): string {
  const b = ARM_LABELS[c.b];
  return c.verdict === 'better' ? `better than ${b}` : c.verdict === 'worse' ? `worse than ${b}` : `indistinguishable from ${b}`;
}

/** A difference with its sign: `+1.23 pts` for fractions (percentage points), else `+0.0123`. */
export function formatDiff(x: number | null, fraction: boolean): string {
  if (x === null || !Number.isFinite(x)) return '—';
  const sign = x > 0 ? '+' : x < 0 ? '−' : '±';
  return fraction ? `${sign}${Math.abs(x * 100).toFixed(2)} pts` : `${sign}${Math.abs(x).toPrecision(3)}`;
}

/** `95% CI +0.41 to +2.05 pts`. */
export function formatCi(ci: readonly [number, number] | null, fraction: boolean): string {
  if (!ci) return 'no interval';
  return `95% CI ${formatDiff(ci[0], fraction).replace(/ pts$/, '')} to ${formatDiff(ci[1], fraction)}`;
}

/** `better than the paper schedule: +1.23 pts (95% CI +0.41 to +2.05 pts, 5 paired seeds)`. */
export function comparisonSentence(c: Comparison, fraction: boolean): string {
  if (c.n < 2) return `indistinguishable from ${ARM_LABELS[c.b]}: ${c.n} paired seed${c.n === 1 ? '' : 's'}, too few for an interval`;
  // Two or more seeds and still no interval: every seed gave the same difference, too few of them to tell (meanInterval).
  if (!c.ci) return `${verdictPhrase(c)}: ${formatDiff(c.meanDiff, fraction)} on each of ${c.n} paired seeds, too few seeds to tell with no spread to measure`;
  return `${verdictPhrase(c)}: ${formatDiff(c.meanDiff, fraction)} (${formatCi(c.ci, fraction)}, ${c.n} paired seeds)`;
}

/** `better than BatchNorm, indistinguishable from the paper schedule`, or null without comparisons. */
export function verdictSummary(comparisons: readonly Comparison[]): string | null {
  const ordered = [...comparisons].sort((x, y) => (x.b === y.b ? 0 : x.b === 'batchnorm' ? -1 : 1));
  return ordered.length ? ordered.map(verdictPhrase).join(', ') : null;
}

/** `×4 (12000 steps)` for a longer run, `` for the study's own length. */
export function multiplierLabel(g: Pick<MultiplierResult, 'multiplier' | 'steps'>): string {
  return g.multiplier === 1 ? '' : `×${g.multiplier}${g.steps ? ` (${g.steps} steps)` : ''}`;
}

/** What a final run retrains, as far as telling two picks apart goes: the schedule and the params it came from. */
export interface RetrainedPoint {
  schedule: unknown;
  params: unknown;
}

/** Does a final run retrain this source (the same schedule and params)? */
export function retrains(run: RetrainedPoint, source: RetrainedPoint): boolean {
  return JSON.stringify(run.schedule) === JSON.stringify(source.schedule) && JSON.stringify(run.params) === JSON.stringify(source.params);
}

/** A final run of the tuned (`best`) arm, at any run length. */
export function isBestArmRun(role: string): boolean {
  return finalArmOf(role)?.startsWith('best') ?? false;
}

/**
 * A best-arm final run of an earlier pick, not of `pick`: a study extended after its final runs may pick another
 * tuned schedule, and the earlier pick's runs stay in the study, outside the report.
 */
export function ofEarlierPick(run: RetrainedPoint & { role: string }, pick: RetrainedPoint): boolean {
  return isBestArmRun(run.role) && !retrains(run, pick);
}

/** The ids of the runs ofEarlierPick for the report's pick; empty while nothing is picked. */
export function earlierPickRuns(trials: readonly (RetrainedPoint & { id: number; number: number; role: string })[], finalValidation: unknown): Set<number> {
  const pickNumber = readFinalValidation(finalValidation)?.bestTrialNumber ?? null;
  const pick = pickNumber === null ? undefined : trials.find((t) => t.number === pickNumber);
  if (!pick) return new Set();
  return new Set(trials.filter((t) => ofEarlierPick(t, pick)).map((t) => t.id));
}

/** What a table calls such a run, after its role: it is kept, but the report is about another schedule. */
export const EARLIER_PICK = 'earlier pick';
