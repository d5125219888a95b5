// The one place that talks to chart.js (a UMD global): creates a chart once per canvas and updates it in place without animation.
import type { Series } from '../types.js';
import { plottable } from '../data/plot_range.js';
import { offScaleNote, type ValueRange } from '../data/value_range.js';
import { setMessage } from './dom.js';

/** The slice of chart.js's API the dashboard uses; chart.js itself is loaded by a <script> tag, not bundled. */
export interface ChartInstance {
  data: { labels?: unknown[]; datasets: unknown[] };
  options: Record<string, unknown>;
  update(mode?: 'none' | 'default'): void;
  destroy(): void;
}
interface ChartStatic {
  new (canvas: HTMLCanvasElement, config: ChartConfig): ChartInstance;
  getChart(canvas: HTMLCanvasElement): ChartInstance | undefined;
  defaults: { font: { family: string; size: number }; color: string; animation: unknown };
}
declare global {
  interface Window {
    Chart?: ChartStatic;
  }
}

export interface ChartConfig {
  type: 'line' | 'scatter' | 'bar';
  data: { labels?: unknown[]; datasets: Series[] };
  options: Record<string, unknown>;
  /** The main y axis's range when some values lie far outside the bulk (value_range.ts): they are drawn at its edge and named in a note. */
  yRange?: ValueRange | null;
}

export function chartLib(): ChartStatic {
  const C = window.Chart;
  if (!C) throw new Error('chart.js did not load (GET /vendor/chart.umd.js failed)');
  return C;
}

/** Global look, set once per page: readable fonts, no animation (live updates redraw often and must not flicker). */
export function setupCharts(): void {
  const C = chartLib();
  C.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
  C.defaults.font.size = 12;
  C.defaults.color = '#374151';
  C.defaults.animation = false;
}

/** Creates the chart on first call and replaces its data/options afterwards, so live refreshes keep the same canvas. */
export function drawChart(canvas: HTMLCanvasElement, config: ChartConfig): ChartInstance {
  const C = chartLib();
  const range = config.yRange ?? undefined;
  const datasets = plottable(config.data.datasets, range);
  const options = range ? withYRange(config.options, range) : config.options;
  showOffScale(canvas, range ? offScaleNote(range.off) : null);
  const existing = C.getChart(canvas);
  if (existing) {
    existing.data.labels = config.data.labels;
    existing.data.datasets = datasets;
    existing.options = options;
    existing.update('none');
    return existing;
  }
  return new C(canvas, { type: config.type, options, data: { ...config.data, datasets } });
}

function withYRange(options: Record<string, unknown>, r: ValueRange): Record<string, unknown> {
  const scales = (options.scales ?? {}) as Record<string, Record<string, unknown>>;
  return { ...options, scales: { ...scales, y: { ...scales.y, min: r.min, max: r.max } } };
}

/** The small note over a chart naming the values drawn at its edge; removed when there are none. */
function showOffScale(canvas: HTMLCanvasElement, text: string | null): void {
  const box = canvas.parentElement;
  if (!box) return;
  let note = box.querySelector<HTMLElement>('.off-scale');
  if (!text) {
    note?.remove();
    return;
  }
  if (!note) {
    note = document.createElement('p');
    note.className = 'off-scale';
    box.appendChild(note);
  }
  setMessage(note, text);
}

export interface AxisSpec {
  title: string;
  type?: 'linear' | 'logarithmic' | 'category';
  min?: number;
  max?: number;
  labels?: string[];
  percent?: boolean;
  beginAtZero?: boolean;
  hideTicks?: boolean;
  /** Show every category label unrotated (parallel coordinates' axis names). */
  allLabels?: boolean;
}

function axis(a: AxisSpec, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const ticks: Record<string, unknown> = a.allLabels ? { autoSkip: false, maxRotation: 0, font: { size: 11 } } : { maxTicksLimit: 8, maxRotation: 0 };
  // Log axes label every power-of-ten subdivision by default; a short number reads better in a small chart.
  if (a.type === 'logarithmic') ticks.callback = (v: number | string) => String(Number(Number(v).toPrecision(2)));
  if (a.percent) ticks.callback = (v: number | string) => `${Math.round(Number(v) * 1000) / 10}%`;
  if (a.hideTicks) ticks.display = false;
  return {
    type: a.type ?? 'linear',
    title: { display: true, text: a.title, font: { weight: '600' } },
    min: a.min,
    max: a.max,
    labels: a.labels,
    beginAtZero: a.beginAtZero,
    ticks,
    grid: { color: '#eef0f3' },
    ...extra,
  };
}

interface RawPoint {
  name?: string;
  trialId?: number;
  /** The true value of a point drawn at the chart's edge (plot_range.ts). */
  beyond?: number;
}

/**
 * Common options: titled axes, a legend at the bottom, tooltips naming the trial behind a point, and a click handler
 * that receives the trial id of the clicked point or line.
 */
export function chartOptions(o: {
  x: AxisSpec;
  y: AxisSpec;
  y2?: AxisSpec;
  legend?: boolean;
  onTrialClick?: (trialId: number) => void;
  datasets?: Series[];
}): Record<string, unknown> {
  const scales: Record<string, unknown> = { x: axis(o.x), y: axis(o.y) };
  if (o.y2) scales.y2 = axis(o.y2, { position: 'right', grid: { drawOnChartArea: false } });
  return {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    parsing: true,
    normalized: true,
    interaction: { mode: 'nearest', intersect: false },
    scales,
    plugins: {
      legend: { display: o.legend !== false, position: 'bottom', labels: { boxWidth: 14, boxHeight: 2, usePointStyle: false, filter: (item: { text: string }) => !item.text.startsWith('mean ') } },
      tooltip: {
        callbacks: {
          label: (ctx: { raw: unknown; dataset: { label: string }; formattedValue: string }) => {
            const raw = ctx.raw as RawPoint | null;
            const who = raw && typeof raw === 'object' && raw.name ? raw.name : ctx.dataset.label;
            if (raw && typeof raw === 'object' && typeof raw.beyond === 'number') return `${who}: ${String(raw.beyond).replace('e+', 'e')} (off the scale)`;
            return `${who}: ${ctx.formattedValue}`;
          },
        },
      },
    },
    onClick: (_evt: unknown, elements: Array<{ datasetIndex: number; index: number }>) => {
      if (!o.onTrialClick || !o.datasets || elements.length === 0) return;
      const { datasetIndex, index } = elements[0];
      const ds = o.datasets[datasetIndex];
      const raw = ds?.data[index] as RawPoint | null | undefined;
      const id = raw && typeof raw === 'object' && typeof raw.trialId === 'number' ? raw.trialId : ds?.trialId;
      if (typeof id === 'number') o.onTrialClick(id);
    },
  };
}
