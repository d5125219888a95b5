// How sure a ratio of two medians over seeds is: a seeded percentile bootstrap, so a bench can say whether a missed target is a measured difference or seed noise.
//
// The two samples come from separate runs (batch 4 vs batch 1, the GP vs TPE), so each is resampled on its own.
// With 10 seeds and regrets that jump between basins (a seed either finds the deep basin or it does not), the
// median moves by whole basins under resampling; the interval shows how far.
import { Rng } from '../../gp/rng.js';
import { BOOTSTRAP_SEED, quantileSorted } from '../../study/stats/bootstrap.js';

export interface RatioIntervalOptions {
  /** Two-sided coverage; default 0.9. */
  level?: number;
  /** Resamples; default 4,000. */
  resamples?: number;
  /** Both medians are floored here before dividing (e.g. SOLVED for our own variants); default none. */
  floor?: number;
  seed?: number;
}

function median(sorted: Float64Array): number {
  return quantileSorted(sorted, 0.5);
}

/** The ratio the interval is about: median(a) / median(b), both floored. Infinity when only b's is zero, 1 when both are. */
export function medianRatio(a: readonly number[], b: readonly number[], floor = 0): number {
  return flooredRatio(median(Float64Array.from(a).sort()), median(Float64Array.from(b).sort()), floor);
}

/** ma / mb with both floored: Infinity when only mb is zero, 1 when both are. */
export function flooredRatio(ma: number, mb: number, floor: number): number {
  const num = Math.max(ma, floor);
  const den = Math.max(mb, floor);
  if (den > 0) return num / den;
  return num > 0 ? Infinity : 1;
}

/** Percentile interval of median(a*) / median(b*) over independent resamples a* of a and b* of b; null if either has under two values. */
export function medianRatioInterval(a: readonly number[], b: readonly number[], opts: RatioIntervalOptions = {}): [number, number] | null {
  if (a.length < 2 || b.length < 2) return null;
  const level = opts.level ?? 0.9;
  const resamples = opts.resamples ?? 4000;
  const floor = opts.floor ?? 0;
  const rng = new Rng(opts.seed ?? BOOTSTRAP_SEED);
  const ra = new Float64Array(a.length);
  const rb = new Float64Array(b.length);
  const ratios = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < a.length; i++) ra[i] = a[rng.int(a.length)]!;
    for (let i = 0; i < b.length; i++) rb[i] = b[rng.int(b.length)]!;
    ratios[r] = flooredRatio(median(ra.sort()), median(rb.sort()), floor);
  }
  ratios.sort();
  return [quantileSorted(ratios, (1 - level) / 2), quantileSorted(ratios, 1 - (1 - level) / 2)];
}

/** Where a ratio stands against an upper target: met, missed beyond doubt at this level, or missed within seed noise. */
export type Standing = 'met' | 'missed' | 'unresolved';

export function standing(ratio: number, interval: [number, number] | null, target: number): Standing {
  if (ratio <= target) return 'met';
  return interval && interval[0] > target ? 'missed' : 'unresolved';
}
