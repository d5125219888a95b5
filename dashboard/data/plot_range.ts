// Keeps plotted coordinates inside the range a chart draws: always inside what chart.js can draw (a value near
// Number.MAX_VALUE, a diverged run told as the largest float, sends its linear scale's tick loop past Infinity and the
// tab runs out of memory and dies), and inside a chart's chosen y range (value_range.ts) when it has one. A point
// outside is drawn at the edge, marked by a triangle pointing off the chart, and keeps its true value for the tooltip.
import type { Series, SeriesPoint } from '../types.js';

/** Largest magnitude drawn; beyond it a value sits at the chart's edge. Far past any metric, far below overflow. */
export const PLOT_LIMIT = 1e300;

/** A point drawn at the limit keeps its true value here, for the tooltip. */
export interface ClampedPoint extends SeriesPoint {
  beyond?: number;
}

export interface YRange {
  min: number;
  max: number;
}

const FULL: YRange = { min: -PLOT_LIMIT, max: PLOT_LIMIT };
const clampTo = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
const outside = (v: unknown, lo: number, hi: number): v is number => typeof v === 'number' && (v < lo || v > hi);

/**
 * The datasets with every coordinate past ±PLOT_LIMIT, and every y on the main axis outside `y`, drawn at the edge;
 * untouched datasets are returned as they are (nothing copied on the common path).
 */
export function plottable(datasets: readonly Series[], y: YRange = FULL): Series[] {
  return datasets.map((d) => {
    const r = d.yAxisID === undefined || d.yAxisID === 'y' ? { min: Math.max(y.min, -PLOT_LIMIT), max: Math.min(y.max, PLOT_LIMIT) } : FULL;
    return d.data.some((p) => beyond(p, r)) ? pinned(d, r) : d;
  });
}

function pinned(d: Series, r: YRange): Series {
  const cx = (v: number) => clampTo(v, -PLOT_LIMIT, PLOT_LIMIT);
  const cy = (v: number) => clampTo(v, r.min, r.max);
  const data = d.data.map((p) => {
    if (!beyond(p, r) || p === null) return p;
    if (typeof p === 'number') return cy(p);
    if (Array.isArray(p)) return [cy(p[0]), cy(p[1])] as [number, number];
    const out: ClampedPoint = { ...p, x: outside(p.x, -PLOT_LIMIT, PLOT_LIMIT) ? cx(p.x) : p.x, y: outside(p.y, r.min, r.max) ? cy(p.y) : p.y };
    if (outside(p.y, r.min, r.max)) out.beyond = p.y;
    return out;
  });
  const shows = typeof d.pointRadius === 'number' ? d.pointRadius > 0 : d.pointRadius === undefined || Array.isArray(d.pointRadius);
  if (!shows) return { ...d, data };
  // Points at the edge are triangles pointing the way off the chart, a little larger than the rest.
  const where = d.data.map((p) => (p !== null && typeof p === 'object' && !Array.isArray(p) && typeof p.y === 'number' ? (p.y > r.max ? 1 : p.y < r.min ? -1 : 0) : 0));
  if (where.every((w) => w === 0)) return { ...d, data };
  const radius = (i: number) => (Array.isArray(d.pointRadius) ? d.pointRadius[i] ?? 3 : d.pointRadius ?? 3);
  return {
    ...d,
    data,
    pointStyle: where.map((w) => (w ? 'triangle' : typeof d.pointStyle === 'string' ? d.pointStyle : 'circle')),
    rotation: where.map((w) => (w < 0 ? 180 : 0)),
    pointRadius: where.map((w, i) => (w ? radius(i) + 3 : radius(i))),
    // Drawn whole, not cut in half by the chart area's edge they sit on.
    clip: false,
  };
}

function beyond(p: Series['data'][number], r: YRange): boolean {
  if (p === null) return false;
  if (typeof p === 'number') return outside(p, r.min, r.max);
  if (Array.isArray(p)) return outside(p[0], r.min, r.max) || outside(p[1], r.min, r.max);
  return outside(p.x, -PLOT_LIMIT, PLOT_LIMIT) || outside(p.y, r.min, r.max);
}
