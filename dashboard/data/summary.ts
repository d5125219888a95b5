// Headline numbers of a study: progress and how the best schedule compares with BatchNorm and the paper's.
import type { Direction, StudySummary } from '../types.js';

export interface SummaryRow {
  id: string;
  name: string;
  state: string;
  executor: string;
  /** The objective's metric: how the values read (formatValue shows an accuracy's in percent). */
  metric: string;
  done: number;
  budget: number | null;
  /** done / budget in [0, 1], null without a trial budget. */
  progress: number | null;
  running: number;
  failed: number;
  best: number | null;
  batchnorm: number | null;
  paper: number | null;
  /** best − baseline, signed so that positive always means "better than the baseline". */
  gainVsBatchnorm: number | null;
  gainVsPaper: number | null;
  href: string;
}

export function gain(direction: Direction, best: number | null, baseline: number | null): number | null {
  if (best === null || baseline === null || !Number.isFinite(best) || !Number.isFinite(baseline)) return null;
  return direction === 'maximize' ? best - baseline : baseline - best;
}

export function summaryRow(s: StudySummary): SummaryRow {
  const done = s.counts.COMPLETE + s.counts.PRUNED + s.counts.FAIL;
  const best = s.best ? s.best.value : null;
  return {
    id: s.id,
    name: s.name,
    state: s.state,
    executor: s.executor,
    metric: s.metric,
    done,
    budget: s.budgetTrials,
    progress: s.budgetTrials ? Math.min(1, done / s.budgetTrials) : null,
    running: s.counts.RUNNING,
    failed: s.counts.FAIL,
    best,
    batchnorm: s.baselines.batchnorm,
    paper: s.baselines.paper,
    gainVsBatchnorm: gain(s.direction, best, s.baselines.batchnorm),
    gainVsPaper: gain(s.direction, best, s.baselines.paper),
    href: `study.html?id=${encodeURIComponent(s.id)}`,
  };
}

/** A metric value for display: accuracies as percentages, everything else with 4 significant digits. */
export function formatValue(v: number | null, metric = ''): string {
  if (v === null || !Number.isFinite(v)) return '—';
  if (/acc/i.test(metric) && v >= 0 && v <= 1) return `${(v * 100).toFixed(2)}%`;
  return Math.abs(v) >= 1000 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : v.toPrecision(4);
}

/**
 * A gain for display: "+1.23 pts" for accuracies, signed raw difference otherwise. Two finite values can differ by
 * more than a double holds (a diverged run told as Number.MAX_VALUE beside one at -MAX_VALUE): shown as past it.
 */
export function formatGain(g: number | null, metric = ''): string {
  if (g === null || Number.isNaN(g)) return '—';
  const sign = g > 0 ? '+' : g < 0 ? '−' : '±';
  if (!Number.isFinite(g)) return `${sign}>${formatValue(Number.MAX_VALUE)}`;
  if (/acc/i.test(metric)) return `${sign}${Math.abs(g * 100).toFixed(2)} pts`;
  return `${sign}${formatValue(Math.abs(g))}`;
}
