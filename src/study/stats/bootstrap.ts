// The BCa bootstrap interval of a mean (Efron 1987), seeded so that the same values always give the same interval.
import { normCdf, normQuantile } from '../../gp/normal.js';
import { Rng } from '../../gp/rng.js';

export interface BootstrapOptions {
  /** Two-sided coverage; default 0.95. */
  level?: number;
  /** Resamples; default 10 000 (the interval's endpoints then move by well under 1% of its width between seeds). */
  resamples?: number;
  /** Default BOOTSTRAP_SEED: a report read twice must print the same interval. */
  seed?: number;
}

/** Fixed, so reports are reproducible; any value would do. */
export const BOOTSTRAP_SEED = 20170210;

/**
 * Bias-corrected and accelerated percentile interval of the mean. It follows the data's skew (accuracies piled up
 * near 1.0 get a longer lower arm) and never leaves [min, max] of the data. Null with fewer than two values; a
 * zero-width interval when every value is the same. At small n it is too narrow (see interval.ts), which is why the
 * studies never use it alone.
 */
export function bcaInterval(values: readonly number[], opts: BootstrapOptions = {}): [number, number] | null {
  const n = values.length;
  if (n < 2) return null;
  const level = opts.level ?? 0.95;
  const b = opts.resamples ?? 10_000;
  const mean = values.reduce((a, v) => a + v, 0) / n;
  if (values.every((v) => v === values[0])) return [mean, mean];

  const rng = new Rng(opts.seed ?? BOOTSTRAP_SEED);
  const means = new Float64Array(b);
  for (let r = 0; r < b; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += values[rng.int(n)]!;
    means[r] = s / n;
  }
  means.sort();

  // Bias correction: how far the bootstrap distribution's median sits from the estimate (ties count half).
  let below = 0;
  let ties = 0;
  for (const m of means) {
    if (m < mean) below++;
    else if (m === mean) ties++;
  }
  const z0 = normQuantile(clampP((below + ties / 2) / b, b));

  // Acceleration from the jackknife: the skewness of the leave-one-out means.
  const jack = values.map((_, i) => (mean * n - values[i]!) / (n - 1));
  const jm = jack.reduce((a, v) => a + v, 0) / n;
  let num = 0;
  let den = 0;
  for (const j of jack) {
    num += (jm - j) ** 3;
    den += (jm - j) ** 2;
  }
  const a = den > 0 ? num / (6 * den ** 1.5) : 0;

  const at = (alpha: number): number => {
    const z = normQuantile(alpha);
    const shifted = 1 - a * (z0 + z);
    // A denominator at or below zero means the correction ran past the distribution's end: take that end.
    const p = shifted <= 0 ? (z < 0 ? 0 : 1) : normCdf(z0 + (z0 + z) / shifted);
    return quantileSorted(means, p);
  };
  return [at((1 - level) / 2), at(1 - (1 - level) / 2)];
}

/** Keeps the bias correction finite when every resample falls on one side. */
function clampP(p: number, b: number): number {
  return Math.min(Math.max(p, 1 / (b + 1)), b / (b + 1));
}

/** Linear interpolation between order statistics (type 7, the numpy and R default). */
export function quantileSorted(sorted: Float64Array | readonly number[], p: number): number {
  const h = (sorted.length - 1) * Math.min(Math.max(p, 0), 1);
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

