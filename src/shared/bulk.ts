// Where the bulk of a set of values lies (its quartiles and a scale) and how far out of it counts as far: the one rule behind the GP's tail compression (src/gp/tails.ts) and the dashboard's chart ranges (dashboard/data/value_range.ts).
//
// The scale is the interquartile range (IQR); when the middle half ties (a plateau) it is the smallest distance of
// another value from the median, a far weaker estimate (a mean distance would be an outlier's own size), so only
// PLATEAU_TRIGGER scales count as far there. Why these numbers: src/gp/tails.ts.

/** Interquartile ranges past the quartiles beyond which a value is outside the bulk (where the GP's compression starts). */
export const FENCE = 10;
/** Interquartile ranges past the quartiles beyond which a value is an outlier by any measure (a diverged run's 1e6 among values near 1). */
export const TRIGGER = 1e3;
/** TRIGGER on a plateau, where the scale comes from one smallest distance. */
export const PLATEAU_TRIGGER = 1e7;

export interface Bulk {
  q1: number;
  q3: number;
  /** The IQR, or on a plateau the smallest distance of another value from the median; always finite and > 0. */
  scale: number;
  /** True when the middle half ties and `scale` is the weaker estimate. */
  plateau: boolean;
}

/** Linear (numpy's default) quantile of sorted values. */
export function quantile(sorted: ArrayLike<number>, p: number): number {
  const h = (sorted.length - 1) * p;
  const i = Math.floor(h);
  return i + 1 < sorted.length ? sorted[i]! + (h - i) * (sorted[i + 1]! - sorted[i]!) : sorted[i]!;
}

/** The bulk of `values` (finite numbers); null with fewer than 4 values or when all are equal: no bulk to tell apart. */
export function bulkOf(values: ArrayLike<number>): Bulk | null {
  if (values.length < 4) return null;
  const sorted = Float64Array.from(values).sort();
  const q1 = quantile(sorted, 0.25);
  const q3 = quantile(sorted, 0.75);
  let scale = q3 - q1;
  const plateau = !(scale > 0);
  if (plateau) {
    const med = quantile(sorted, 0.5);
    scale = Infinity;
    for (const v of sorted) if (v !== med) scale = Math.min(scale, Math.abs(v - med));
  }
  if (!(scale > 0) || !Number.isFinite(scale)) return null;
  return { q1, q3, scale, plateau };
}

/** The fences `scales` scales past the quartiles (FENCE or TRIGGER), or PLATEAU_TRIGGER scales on a plateau, whatever asked. */
export function fences(b: Bulk, scales: number): { lower: number; upper: number } {
  const k = b.plateau ? PLATEAU_TRIGGER : scales;
  return { lower: b.q1 - k * b.scale, upper: b.q3 + k * b.scale };
}
