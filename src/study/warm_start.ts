// Warm starts: which trials of an earlier study a new study may learn from, checked before it is created, and their copies.
import { ConfigError } from '../errors.js';
import { EncodedSpace, type SearchSpace } from '../optimizer/index.js';
import { feedsOptimizer } from '../shared/roles.js';
import type { StudyConfig } from './config.js';
import { metricOf, objectiveBounds } from './config.js';
import { pointIn } from './schedule_point.js';
import type { NewTrial, StudyRecord, TrialRecord } from './types.js';

/** Why a finished source trial was not copied. */
export const WARM_START_SKIPS = {
  evidence: 'race or final-validation re-runs (re-measurements of other trials, not observations)',
  noPoint: 'no point in the search space (a formula schedule, or a baseline the source space did not hold)',
  outsideSpace: 'points outside this study\'s search space',
  outsideBounds: 'values outside this study\'s objective bounds',
} as const;
export type WarmStartSkip = keyof typeof WARM_START_SKIPS;

/** What a warm start copied, stored in the new study's attrs (`warmStart`) and shown by `show`. */
export interface WarmStartReport {
  /** `id` is null when the source was gone before anything was copied (see `unavailable`). */
  from: { id: string | null; name: string };
  copied: number;
  /** Finished source trials left out (every finished trial is either copied or counted here). */
  skipped: number;
  /** How many were left out for each reason (WARM_START_SKIPS); only reasons that occurred, absent when none was skipped. */
  skippedWhy?: Partial<Record<WarmStartSkip, number>>;
  /** Why nothing was copied: a create cut short whose source was deleted or renamed before it was finished. */
  unavailable?: string;
}

/** The report of a warm start whose source (`from`, as the config names it) no longer exists: nothing copied. */
export function unavailableWarmStart(from: string): { trials: NewTrial[]; report: WarmStartReport } {
  return {
    trials: [],
    report: {
      from: { id: null, name: from }, copied: 0, skipped: 0,
      unavailable: `study '${from}' was deleted or renamed before this study's create was finished: nothing was copied`,
    },
  };
}

/**
 * The copies of `source`'s finished trials for a study of `config` over `space`: every COMPLETE, PRUNED or FAILed
 * trial the source's optimizer learned from (search, enqueued, baselines with a point in the space, earlier warm
 * starts), as finished `warm-start` trials. They feed the new optimizer, cost no budget and never count as the best.
 * Refused (ConfigError on warmStartFrom) when the two studies cannot be compared: another metric or direction,
 * another set of search parameters, or nothing to copy.
 */
export function warmStartTrials(config: StudyConfig, space: SearchSpace, source: StudyRecord, sourceSpace: SearchSpace, trials: readonly TrialRecord[]): { trials: NewTrial[]; report: WarmStartReport } {
  const field = 'warmStartFrom';
  const metric = metricOf(source.config);
  if (metric !== config.objective.metric || source.direction !== config.objective.direction) {
    throw new ConfigError(field, `study '${source.name}' ${source.direction}s ${metric}, this one ${config.objective.direction}s ${config.objective.metric}: their values cannot be compared`,
      'warm-start from a study with the same objective');
  }
  const mine = Object.keys(space).sort();
  const other = Object.keys(sourceSpace).sort();
  if (mine.join() !== other.join()) {
    throw new ConfigError(field, `study '${source.name}' searched ${other.join(', ') || 'nothing'}, this one searches ${mine.join(', ')}`,
      'warm-start from a study over the same parameters (ranges may differ: points outside this space are skipped)');
  }
  const encoded = new EncodedSpace(space);
  const [lo, hi] = objectiveBounds(config.objective);
  const finished = trials.filter((t) => t.state === 'COMPLETE' || t.state === 'PRUNED' || t.state === 'FAIL');
  const out: NewTrial[] = [];
  const skippedWhy: Partial<Record<WarmStartSkip, number>> = {};
  const skip = (why: WarmStartSkip) => void (skippedWhy[why] = (skippedWhy[why] ?? 0) + 1);
  for (const t of finished) {
    const inBounds = t.value === null || ((lo === null || t.value >= lo) && (hi === null || t.value <= hi));
    if (!feedsOptimizer(t.role)) skip('evidence');
    else if (Object.keys(t.params).length === 0) skip('noPoint');
    else if (pointIn(encoded, t.params) === null) skip('outsideSpace');
    else if (!inBounds) skip('outsideBounds');
    else out.push({
      state: t.state, role: 'warm-start', params: t.params, schedule: t.schedule, value: t.value, seed: t.seed,
      metrics: { ...(t.metrics ?? {}), warmStart: { studyId: source.id, study: source.name, number: t.number } },
      // Keyed by the source trial: copying twice (a retried create) cannot duplicate an observation.
      key: `warm-start:${source.id}:${t.number}`,
    });
  }
  if (out.length === 0) {
    throw new ConfigError(field, `study '${source.name}' has no finished trial ${finished.length ? `to learn from (${skippedText(skippedWhy)})` : 'yet to learn from'}`, 'warm-start from a study with finished trials, or leave warmStartFrom out');
  }
  const skipped = finished.length - out.length;
  return { trials: out, report: { from: { id: source.id, name: source.name }, copied: out.length, skipped, ...(skipped ? { skippedWhy } : {}) } };
}

/** `2 with no point in the search space (...), 1 with values outside ...`: the reasons of a report, for people. */
function skippedText(why: Partial<Record<WarmStartSkip, number>>): string {
  return (Object.entries(why) as [WarmStartSkip, number][]).map(([k, n]) => `${n} ${k === 'evidence' ? '' : 'with '}${WARM_START_SKIPS[k]}`).join(', ');
}

/** `; 2 left out: 2 with no point in the search space (...)` for `show` and `create`, or '' when every finished trial was copied. */
export function leftOutText(report: WarmStartReport | null | undefined): string {
  if (!report?.skipped) return '';
  return `; ${report.skipped} left out${report.skippedWhy ? `: ${skippedText(report.skippedWhy)}` : ''}`;
}
