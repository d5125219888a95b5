// Paired comparison of two arms measured on the same seeds: the mean per-seed difference, its interval and the verdict.
import type { Direction } from '../../shared/names.js';
import type { Verdict } from '../../shared/evidence.js';
import { differenceRange, meanInterval, type MetricRange } from './interval.js';

export interface PairedDifference {
  /** a - b per seed, aligned with the seeds; null where either arm has no value for that seed. */
  diffs: (number | null)[];
  /** Seeds where both arms have a value. */
  n: number;
  /** Mean of the per-seed differences (a - b); null without a pair. */
  meanDiff: number | null;
  /** 95% interval of the mean difference (meanInterval over the differences); null below two pairs. */
  ci: [number, number] | null;
  verdict: Verdict;
}

/**
 * Compares arm `a` with arm `b`, value by value (same index = same seed). Pairing removes what a seed does to
 * every arm alike (data order, initialisation), which is most of the spread between runs, so the difference is
 * measured far more tightly than two overlapping intervals of the arms would suggest.
 */
export function pairedDifference(a: readonly (number | null)[], b: readonly (number | null)[], direction: Direction, range: MetricRange): PairedDifference {
  const diffs = a.map((x, i) => {
    const y = b[i];
    return typeof x === 'number' && typeof y === 'number' && Number.isFinite(x) && Number.isFinite(y) ? x - y : null;
  });
  const paired = diffs.filter((d): d is number => d !== null);
  const meanDiff = paired.length ? paired.reduce((s, d) => s + d, 0) / paired.length : null;
  const ci = meanInterval(paired, differenceRange(range));
  return { diffs, n: paired.length, meanDiff, ci, verdict: verdictOf(ci, direction) };
}

/**
 * `better` or `worse` only when the interval of a - b excludes 0 (in the direction that is good for the metric);
 * `indistinguishable` otherwise, including when there is no interval at all (fewer than two pairs).
 */
export function verdictOf(ci: readonly [number, number] | null, direction: Direction): Verdict {
  if (!ci) return 'indistinguishable';
  const [lo, hi] = ci;
  const above = lo > 0;
  const below = hi < 0;
  if (!above && !below) return 'indistinguishable';
  return above === (direction === 'maximize') ? 'better' : 'worse';
}
