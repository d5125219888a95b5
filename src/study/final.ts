// Final validation's runs: the tuned pick and both baselines retrained on the same fresh seeds (and at longer run lengths), scored on the test set.
import type { ScheduleSpec } from '../schedule/types.js';
import { isBestArmRun, retrains, type FinalArmName } from '../shared/evidence.js';
import { BASELINES, baselineRole, finalArmOf, type BaselineName } from '../shared/roles.js';
import type { Direction } from '../shared/names.js';
import { objectiveBounds, type StudyConfig } from './config.js';
import { finalSeed } from './seeds.js';
import { metricRange, type MetricRange } from './stats/interval.js';
import type { NewTrial, Params, TrialRecord, TrialRole } from './types.js';

/** What a local final run is scored on: the test set, whatever the search objective (its `loss` is training loss). */
export const FINAL_METRIC = 'testAccuracy';

export type FinalArm = FinalArmName;

/** What an arm retrains: a schedule (and the params it came from, for its momentum). */
export interface FinalSource {
  params: Params;
  schedule: ScheduleSpec;
}

/** `final:best` at the study's own run length (the role it always had), `final:best@x4` at four times it. */
export function finalArmRole(arm: FinalArm, multiplier: number): TrialRole {
  return multiplier === 1 ? `final:${arm}` : `final:${arm}@x${multiplier}`;
}

/** The arm and run-length multiplier of a final run's role, else null. */
export function parseFinalRole(role: string): { arm: string; multiplier: number } | null {
  const arm = finalArmOf(role);
  if (arm === null) return null;
  const m = /^(.+)@x(\d+)$/.exec(arm);
  return m ? { arm: m[1]!, multiplier: Number(m[2]) } : { arm, multiplier: 1 };
}

/** How many times the study's run length a trial trains for: its final run's multiplier, else 1. */
export function stepsMultiplierOf(role: string): number {
  return parseFinalRole(role)?.multiplier ?? 1;
}

/**
 * The study's baseline trials, those that completed their search run, or (`anyState`) every one it has: each is a
 * final arm whatever its search run did, since a final run retrains its schedule from scratch; a search run that
 * failed once (a passing out-of-memory) left that baseline out of final validation, and the tuned schedule could be
 * recommended over a baseline it was never compared with.
 */
export function baselineSources(trials: readonly TrialRecord[], anyState = false): Partial<Record<BaselineName, TrialRecord>> {
  const out: Partial<Record<BaselineName, TrialRecord>> = {};
  for (const b of BASELINES) {
    const t = trials.find((x) => x.role === baselineRole(b) && (anyState || x.state === 'COMPLETE'));
    if (t) out[b] = t;
  }
  return out;
}

/**
 * Every arm on the same `seeds` fresh seeds (paired), at every run length, keyed by arm, multiplier and seed index,
 * so calling this again (a restart, a second coordinator, an outside trainer asking twice) creates only what is
 * missing. The study's own length keeps the keys it always had (`final:best:3`). `bestTag` goes on the best arm's
 * keys (see bestRunTag): a study extended after its final runs may pick another schedule, which needs runs of its own.
 */
export function finalTrials(sources: Partial<Record<FinalArm, FinalSource>>, studySeed: number, seeds: number, multipliers: readonly number[], bestTag = ''): NewTrial[] {
  const out: NewTrial[] = [];
  for (const m of multipliers) {
    for (const [arm, src] of Object.entries(sources) as [FinalArm, FinalSource][]) {
      const role = finalArmRole(arm, m);
      const tag = arm === 'best' ? bestTag : '';
      for (let i = 0; i < seeds; i++) {
        out.push({ state: 'WAITING', role, key: `${role}:${i}${tag}`, params: src.params, schedule: src.schedule, seed: finalSeed(studySeed, i) });
      }
    }
  }
  return out;
}

/**
 * The key tag of the best arm's runs for `pick`. The first pick's runs keep the keys they always had (no tag). A
 * study extended after its final runs may pick another tuned schedule; that one's runs are tagged with its trial
 * number (`final:best:3#12`), so each pick gets its own runs and going back to an earlier pick reuses its runs.
 */
export function bestRunTag(trials: readonly TrialRecord[], pick: FinalSource & { trialNumber: number | null }): string {
  let first: TrialRecord | undefined;
  for (const t of trials) if (isBestArmRun(t.role) && (!first || t.number < first.number)) first = t;
  return !first || retrains(first, pick) ? '' : `#${pick.trialNumber}`;
}

/** The seeds of final validation, in order: every arm and run length uses exactly these. */
export function finalSeeds(studySeed: number, seeds: number): number[] {
  return Array.from({ length: seeds }, (_, i) => finalSeed(studySeed, i));
}

/**
 * The metric final runs report, and which way is better. A local study's trainer reports test accuracy whatever
 * the search optimised; an outside trainer reports the study's own objective measured on its test set, within the
 * range its tells are checked against (`objective.bounds`, or a known metric's): not a guess from the metric's name,
 * which would clip a `top1_acc` reported in percent to [0, 1].
 */
export function finalMetricOf(config: Pick<StudyConfig, 'executor' | 'objective'>): { metric: string; direction: Direction; range: MetricRange } {
  if (config.executor === 'external') return { metric: config.objective.metric, direction: config.objective.direction, range: objectiveBounds(config.objective) };
  return { metric: FINAL_METRIC, direction: 'maximize', range: metricRange(FINAL_METRIC) };
}
