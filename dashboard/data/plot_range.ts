// Keeps plotted coordinates inside what chart.js can draw: a value near Number.MAX_VALUE (a diverged run told as the
// largest float) sends its linear scale's tick loop past Infinity, and the tab runs out of memory and dies.
import type { Series, SeriesPoint } from '../types.js';

/** Largest magnitude drawn; beyond it a value sits at the chart's edge. Far past any metric, far below overflow. */
export const PLOT_LIMIT = 1e300;

/** A point drawn at the limit keeps its true value here, for the tooltip. */
export interface ClampedPoint extends SeriesPoint {
  beyond?: number;
}

const clamp = (v: number) => Math.min(PLOT_LIMIT, Math.max(-PLOT_LIMIT, v));
const over = (v: unknown): v is number => typeof v === 'number' && Math.abs(v) > PLOT_LIMIT;

function plottablePoint(p: Series['data'][number]): Series['data'][number] {
  if (!beyondLimit(p) || p === null) return p;
  if (typeof p === 'number') return clamp(p);
  if (Array.isArray(p)) return [clamp(p[0]), clamp(p[1])];
  const out: ClampedPoint = { ...p, x: over(p.x) ? clamp(p.x) : p.x, y: over(p.y) ? clamp(p.y) : p.y };
  if (over(p.y)) out.beyond = p.y;
  return out;
}

/** The datasets with every coordinate past ±PLOT_LIMIT drawn at the limit; untouched datasets are returned as they are. */
export function plottable(datasets: readonly Series[]): Series[] {
  return datasets.map((d) => (d.data.some(beyondLimit) ? { ...d, data: d.data.map(plottablePoint) } : d));
}

function beyondLimit(p: Series['data'][number]): boolean {
  if (Array.isArray(p)) return over(p[0]) || over(p[1]);
  return over(p) || (p !== null && typeof p === 'object' && (over(p.x) || over(p.y)));
}
