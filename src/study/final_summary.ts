// Turns finished final-validation runs into the stored report: each arm's values by seed with an interval, and the paired verdicts.
import type { ArmScore, Comparison, FinalValidationReport, MultiplierResult } from '../shared/evidence.js';
import { FINAL_ARMS, ofEarlierPick } from '../shared/evidence.js';
import type { Direction } from '../shared/names.js';
import { roleKind } from '../shared/roles.js';
import { studyTotalSteps, type StudyConfig } from './config.js';
import type { PickRecord } from './evidence.js';
import { finalArmRole, finalMetricOf, finalSeeds, type FinalSource } from './final.js';
import { isOpen } from '../shared/attempts.js';
import { INTERVAL_METHOD, meanInterval, type MetricRange } from './stats/interval.js';
import { pairedDifference } from './stats/paired.js';
import type { TrialRecord } from './types.js';

export interface FinalSummaryContext {
  studySeed: number;
  seeds: number;
  stepsMultipliers: readonly number[];
  /** scenario.steps, if the study knows it. */
  totalSteps: number | null;
  metric: string;
  direction: Direction;
  range: MetricRange;
  /** The tuned trial behind the `best` arm; null while it has not been picked (or none completed). */
  best: { trialId: number | null; trialNumber: number | null; pickedBy: string } | null;
  /** Best-arm runs still to be created (the race is on): counted as pending. */
  bestRunsToCome: number;
  /**
   * What the best arm retrains: only its runs count (a study extended after its final runs may have picked another
   * schedule since, and the earlier pick's runs stay in the study). Absent: every best-arm run.
   */
  bestSource?: FinalSource | null;
}

/** The report stored in attrs.finalValidation (see FinalValidationReport); provisional while `pending` > 0. */
export function summarizeFinal(trials: readonly TrialRecord[], ctx: FinalSummaryContext): FinalValidationReport {
  const seeds = finalSeeds(ctx.studySeed, ctx.seeds);
  const multipliers = [...ctx.stepsMultipliers].sort((a, b) => (a === 1 ? -1 : b === 1 ? 1 : a - b));
  const byMultiplier = multipliers.map((m) => resultAt(trials, m, seeds, ctx));
  const pending = trials.filter((t) => t.role.startsWith('final:') && isOpen(t.state) && counts(t, ctx)).length + ctx.bestRunsToCome;
  const own = byMultiplier[0] ?? { arms: {}, comparisons: [] };
  const report: FinalValidationReport = {
    version: 2,
    metric: ctx.metric,
    direction: ctx.direction,
    range: [ctx.range[0], ctx.range[1]],
    interval: INTERVAL_METHOD,
    seeds,
    stepsMultipliers: multipliers,
    arms: own.arms,
    comparisons: own.comparisons,
    byMultiplier,
    best: ctx.best,
    pending,
  };
  if (ctx.best?.trialId != null) report.trialId = ctx.best.trialId;
  if (ctx.best?.trialNumber != null) report.trialNumber = ctx.best.trialNumber;
  return report;
}

/**
 * The report of a study from its config, its recorded pick (attrs.finalValidationSource) and its trials; null until
 * a final run exists (e.g. every search trial failed: there is nothing to retrain).
 */
export function studyFinalReport(config: StudyConfig, source: unknown, trials: readonly TrialRecord[]): FinalValidationReport | null {
  const { seeds, stepsMultipliers } = config.finalValidation;
  if (seeds === 0 || !trials.some((t) => roleKind(t.role) === 'final')) return null;
  const picked = source as PickRecord | undefined;
  const best = typeof picked?.best === 'number' ? { trialId: picked.best, trialNumber: picked.trialNumber ?? null, pickedBy: picked.pickedBy ?? 'the best search value' } : null;
  const tunedDone = trials.some((t) => roleKind(t.role) === 'search' && t.state === 'COMPLETE');
  const bestSource = best ? trials.find((t) => t.id === best.trialId) ?? null : null;
  return summarizeFinal(trials, {
    studySeed: config.seed, seeds, stepsMultipliers, totalSteps: studyTotalSteps(config), ...finalMetricOf(config), best, bestSource,
    // Until the race is decided the winner's runs do not exist yet, but they are coming.
    bestRunsToCome: picked === undefined && tunedDone ? seeds * stepsMultipliers.length : 0,
  });
}

function resultAt(trials: readonly TrialRecord[], multiplier: number, seeds: readonly number[], ctx: FinalSummaryContext): MultiplierResult {
  const arms: MultiplierResult['arms'] = {};
  const values: Partial<Record<string, (number | null)[]>> = {};
  for (const arm of FINAL_ARMS) {
    const role = finalArmRole(arm, multiplier);
    const runs = trials.filter((t) => t.role === role && counts(t, ctx));
    if (runs.length === 0) continue;
    // Aligned with `seeds`, so the same index is the same seed in every arm: that is the pairing.
    const v = seeds.map((seed) => {
      const t = runs.find((r) => r.seed === seed && r.state === 'COMPLETE' && typeof r.value === 'number' && Number.isFinite(r.value));
      return t ? t.value : null;
    });
    values[arm] = v;
    arms[arm] = armScore(v, ctx.range);
  }
  const comparisons: Comparison[] = [];
  for (const b of ['paper', 'batchnorm'] as const) {
    const a = values.best;
    const other = values[b];
    if (!a || !other) continue;
    const d = pairedDifference(a, other, ctx.direction, ctx.range);
    comparisons.push({ a: 'best', b, meanDiff: d.meanDiff, ci: d.ci, verdict: d.verdict, n: d.n, diffs: d.diffs });
  }
  return { multiplier, steps: ctx.totalSteps === null ? null : ctx.totalSteps * multiplier, arms, comparisons };
}

/** Is this final run part of the report: a baseline's, or the current pick's best-arm run. */
function counts(t: TrialRecord, ctx: FinalSummaryContext): boolean {
  return !ctx.bestSource || !ofEarlierPick(t, ctx.bestSource);
}

function armScore(values: readonly (number | null)[], range: MetricRange): ArmScore {
  const got = values.filter((v): v is number => v !== null);
  return {
    values: [...values],
    mean: got.length ? got.reduce((s, v) => s + v, 0) / got.length : null,
    ci: meanInterval(got, range),
    n: got.length,
  };
}
