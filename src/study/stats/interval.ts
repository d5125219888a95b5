// The one confidence interval of a mean that the studies report: Student t joined with BCa, kept inside the metric's range.
import { bcaInterval, type BootstrapOptions } from './bootstrap.js';
import { tInterval } from './t.js';

/** Where a metric's values can lie; null = unbounded on that side (JSON has no Infinity). */
export type MetricRange = readonly [number | null, number | null];

export const UNBOUNDED: MetricRange = [null, null];

/** Said next to every interval, so a reader knows what was computed. */
export const INTERVAL_METHOD = '95% CI: Student t joined with a BCa bootstrap (10 000 resamples, fixed seed), clipped to the metric\'s range';

/**
 * Accuracies live in [0, 1]; losses are non-negative; anything else is unbounded. Names are the trainer's
 * (`testAccuracy`, `valAccuracy`, `loss`) or an outside trainer's own.
 */
export function metricRange(metric: string): MetricRange {
  if (/accuracy|acc$/i.test(metric)) return [0, 1];
  if (/loss$/i.test(metric)) return [0, null];
  return UNBOUNDED;
}

/** The range of a difference of two values of a metric in `range`: [lo - hi, hi - lo]. */
export function differenceRange(range: MetricRange): MetricRange {
  const [lo, hi] = range;
  return lo === null || hi === null ? UNBOUNDED : [lo - hi, hi - lo];
}

/** How many values that are all the same it takes before their interval is the point itself (see meanInterval). */
export const SAME_VALUES_MIN = 6;

/**
 * 95% interval of the mean of `values` (null below two values). The union of the t-interval and the BCa
 * interval, intersected with `range`:
 * - the t-interval is exact for normal data and keeps its coverage at 3-5 seeds, where every bootstrap interval
 *   is too narrow (a percentile-type interval cannot cover more than 1 - 2^(1-n) of the time on symmetric data:
 *   94% at n = 5; simulated BCa coverage at n = 5 is about 83%, see test/study/stats);
 * - the BCa interval follows skewed data (accuracies piled up near 1.0), where the symmetric t arm is too short;
 * - the union covers whenever either does, and clipping to the range cannot drop the true mean, which lies in it;
 * - values that are all the same (a quantized metric, a deterministic trainer) leave no spread to measure, and both
 *   arms shrink to the point. Only the sign test speaks then: n equal values put the median there with confidence
 *   1 - 2^(1-n), 95% or more from 6 values (SAME_VALUES_MIN). Fewer get no interval (null: too few to tell).
 */
export function meanInterval(values: readonly number[], range: MetricRange = UNBOUNDED, opts: BootstrapOptions = {}): [number, number] | null {
  if (values.length < SAME_VALUES_MIN && allSame(values)) return null;
  const t = tInterval(values, opts.level);
  const b = bcaInterval(values, opts);
  if (!t || !b) return null;
  let lo = Math.min(t[0], b[0]);
  let hi = Math.max(t[1], b[1]);
  if (range[0] !== null) lo = Math.max(lo, range[0]);
  if (range[1] !== null) hi = Math.min(hi, range[1]);
  return [lo, hi];
}

/** Equal up to rounding (0.94 - 0.95 and 0.95 - 0.96 differ in the last bits). */
function allSame(values: readonly number[]): boolean {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
  return values.length > 0 && hi - lo <= 1e-9 * Math.max(1, Math.abs(hi), Math.abs(lo));
}
