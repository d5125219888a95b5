// The per-step table of a schedule that a trainer applies by linear interpolation: every breakpoint, a 1% grid, and refinement where the ramp curves.
//
// Why a table and not formulas: a PyTorch or Keras trainer should not re-implement our ramp maths (src/shared/ramp.ts
// is its one home). It interpolates between rows instead, so the rows are chosen to make that accurate: every
// breakpoint of a built-in ramp is a row (between two breakpoints linear ramps are straight lines, so
// interpolating rmax and dmax is exact), and an interval is split in half while interpolating it would be off by
// more than TABLE_TOLERANCE at its quarter points (the curved eases, and rmin = 1 / rmax, which is curved even for a
// linear ramp). A breakpoint that falls between two integer steps is a row at its exact (fractional) step.
import { expectInt } from '../config/fields.js';
import { paperAsRamp } from '../shared/ramp.js';
import { scheduleAt } from './evaluate.js';
import type { Clipping, ScheduleSpec, ScheduleTableRow } from './types.js';

/** Grid rows before refinement: every 1% of the run. */
export const TABLE_GRID_POINTS = 101;
/**
 * Largest interpolation error an interval may show at its quarter points before it is split. A quarter of the
 * promised 1e-3: the quarter points see at least 3/4 of a smooth curve's worst chord error, so the promise holds
 * with room to spare (the tests check 1e-3 on dense points).
 */
export const TABLE_TOLERANCE = 2.5e-4;
/** No interval narrower than this share of the run is split (a formula with a jump would split forever). */
const MIN_WIDTH = 1e-9;
/** A cap on the rows of one table: a formula that oscillates faster than any table can follow stops here. */
export const MAX_TABLE_ROWS = 20_000;

export interface TableOptions {
  /** Evenly spaced grid rows before breakpoints and refinement (default 101: every 1% of the run). */
  points?: number;
  /** See TABLE_TOLERANCE. */
  tolerance?: number;
}

/** The relative times (t in [0, 1]) where a built-in schedule changes formula: linear interpolation must not step over them. */
export function breakpoints(spec: ScheduleSpec): number[] {
  if (spec.kind !== 'ramp' && spec.kind !== 'paper') return [];
  const r = spec.kind === 'paper' ? paperAsRamp(spec) : spec;
  return [r.warmup, r.rmaxEnd, r.dmaxEnd].filter((t) => t > 0 && t < 1);
}

const KEYS = ['rmax', 'rmin', 'dmax'] as const;

/**
 * Rows `{step, rmax, rmin, dmax}` from step 0 to `totalSteps`, each exactly `scheduleAt(spec, step, totalSteps)`:
 * at least `points` of them, every breakpoint included, and enough in between that interpolating linearly between
 * neighbouring rows is exact for linear ramps' rmax and dmax and within 1e-3 of scheduleAt everywhere else.
 */
export function scheduleTable(spec: ScheduleSpec, totalSteps: number, opts: TableOptions = {}): ScheduleTableRow[] {
  const points = opts.points ?? TABLE_GRID_POINTS;
  expectInt(points, 'points', 2, 100_000, 'ask for at least 2 points');
  if (!(totalSteps > 0) || !Number.isFinite(totalSteps)) {
    // scheduleAt gives the same error for every kind but batchnorm; say it once, here, for all of them.
    scheduleAt({ kind: 'paper' }, 0, totalSteps);
  }
  const tol = opts.tolerance ?? TABLE_TOLERANCE;
  // Keyed by step (not t), so grid rows of a run divisible into 100 parts land on whole steps.
  const at = new Map<number, Clipping>();
  const value = (step: number): Clipping => {
    let c = at.get(step);
    if (!c) at.set(step, (c = scheduleAt(spec, step, totalSteps)));
    return c;
  };
  const grid = Array.from({ length: points }, (_, i) => (i * totalSteps) / (points - 1));
  const knots = [...new Set([...grid, ...breakpoints(spec).map((t) => t * totalSteps)])].sort((a, b) => a - b);
  for (const s of knots) value(s);
  // Splits, level by level (so a capped table is refined evenly), every interval whose quarter points stray from its chord.
  const strays = (a: number, b: number): boolean => {
    const [va, vb] = [value(a), value(b)];
    for (const w of [0.25, 0.5, 0.75]) {
      const c = scheduleAt(spec, a + w * (b - a), totalSteps);
      for (const k of KEYS) if (Math.abs(va[k] + w * (vb[k] - va[k]) - c[k]) > tol) return true;
    }
    return false;
  };
  const minWidth = 2 * MIN_WIDTH * totalSteps;
  let open: [number, number][] = spec.kind === 'batchnorm' ? [] : knots.slice(1).map((b, i) => [knots[i]!, b]);
  while (open.length > 0 && at.size < MAX_TABLE_ROWS) {
    const next: [number, number][] = [];
    for (const [a, b] of open) {
      if (b - a < minWidth || !strays(a, b)) continue;
      const m = (a + b) / 2;
      value(m);
      next.push([a, m], [m, b]);
      if (at.size >= MAX_TABLE_ROWS) break;
    }
    open = next;
  }
  return [...at.keys()].sort((a, b) => a - b).map((step) => ({ step, ...value(step) }));
}

/**
 * rmax, rmin and dmax at `step` by linear interpolation in a table (clamped to its first and last rows): what a
 * trainer does with the table, and how the tests hold the table to its promise.
 */
export function interpolateTable(table: readonly ScheduleTableRow[], step: number): Clipping {
  if (table.length === 0) throw new RangeError('an empty schedule table');
  let lo = 0;
  let hi = table.length - 1;
  if (step <= table[0]!.step) return pick(table[0]!);
  if (step >= table[hi]!.step) return pick(table[hi]!);
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (table[mid]!.step <= step) lo = mid;
    else hi = mid;
  }
  const a = table[lo]!;
  const b = table[hi]!;
  const w = (step - a.step) / (b.step - a.step);
  return { rmax: a.rmax + w * (b.rmax - a.rmax), rmin: a.rmin + w * (b.rmin - a.rmin), dmax: a.dmax + w * (b.dmax - a.dmax) };
}

function pick(r: ScheduleTableRow): Clipping {
  return { rmax: r.rmax, rmin: r.rmin, dmax: r.dmax };
}
