// The y range of a chart of trial values: when a few lie far outside the bulk (a diverged run's 1e30 loss among losses
// near 1), the bulk's range plus a margin, so one value cannot squash every other point onto one line.
//
// "Far" is the shared rule of src/shared/bulk.ts: a number of interquartile ranges (IQRs) past the quartiles. Values
// past it are drawn pinned at the edge (plot_range.ts) and named in a note. Trial values use FENCE (10 IQRs, where
// the GP's compression starts): the GP only compresses from TRIGGER (1,000 IQRs) on, to keep its benchmarks bit for
// bit, but a chart is unreadable long before that (ten IQRs out leaves the middle half a twentieth of the axis).
// Learning curves use TRIGGER: a curve's own start (a loss of 2.3 falling to a plateau of 0.3 +- 0.02) lies a hundred
// IQRs from the pooled points and must stay on the chart, while a diverged 1e6 or 1e30 goes off it.
import { FENCE, bulkOf, fences } from '../../src/shared/bulk.js';
import type { YRange } from './plot_range.js';

export interface ValueRange extends YRange {
  /** The values outside [min, max], drawn at the edge; their true values go to the tooltip and the note. */
  off: number[];
}

/** Rounds out to a unit a tenth of the span's order of magnitude, so the axis ends on readable numbers. */
function roundOut(lo: number, hi: number): [number, number] {
  const span = hi - lo;
  const margin = span > 0 ? 0.05 * span : Math.max(Math.abs(lo) * 0.05, 1e-12);
  const unit = 10 ** (Math.floor(Math.log10(span > 0 ? span : margin)) - 1);
  const tidy = (v: number) => Number(v.toPrecision(12));
  return [tidy(Math.floor((lo - margin) / unit) * unit), tidy(Math.ceil((hi + margin) / unit) * unit)];
}

/**
 * The range to draw `values` on, or null when none is far out (the chart scales itself as usual). `alsoShow` are
 * values drawn with them (baselines) that widen the range when they lie within the fences; `iqrs`: how many
 * interquartile ranges past the quartiles count as far (FENCE for trial values, TRIGGER for learning curves).
 */
export function valueRange(values: readonly number[], alsoShow: readonly number[] = [], iqrs = FENCE): ValueRange | null {
  const finite = values.filter(Number.isFinite);
  const bulk = bulkOf(finite);
  if (!bulk) return null;
  const { lower, upper } = fences(bulk, iqrs);
  const inside = (v: number) => v >= lower && v <= upper;
  if (finite.every(inside)) return null;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of [...finite, ...alsoShow.filter(Number.isFinite)]) {
    if (!inside(v)) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const [min, max] = roundOut(lo, hi);
  return { min, max, off: finite.filter((v) => v < min || v > max) };
}

/** A value in the note and the tooltip: three significant digits, exponents without "+" (1e30, 1.8e308). */
export function shortValue(v: number): string {
  const a = Math.abs(v);
  if (a < 1e6 && (a >= 1e-3 || a === 0)) return String(Number(v.toPrecision(3)));
  // toExponential, not Number(toPrecision): 1.80e308 rounds past Number.MAX_VALUE to Infinity.
  const [mantissa, exp] = v.toExponential(2).split('e');
  return `${mantissa!.replace(/\.?0+$/, '')}e${exp!.replace('+', '')}`;
}

/** The chart's note, "1 value off the scale: 1e30", listing at most three values; null when none is off. */
export function offScaleNote(off: readonly number[]): string | null {
  if (off.length === 0) return null;
  const sorted = [...off].sort((a, b) => Math.abs(b) - Math.abs(a));
  const shown = sorted.slice(0, 3).map(shortValue).join(', ');
  return `${off.length} value${off.length === 1 ? '' : 's'} off the scale: ${shown}${off.length > 3 ? ', …' : ''}`;
}
