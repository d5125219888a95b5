// Optimization history: each trial's value by trial number, coloured by state, with the best-so-far line and the baselines.
import type { Direction, Series, TrialRecord } from '../types.js';
import { COLORS, STATE_COLORS } from './palette.js';
import { better, hasValue, optimizationTrials, trialName } from './trials.js';
import { valueRange, type ValueRange } from './value_range.js';

export interface HistoryData {
  datasets: Series[];
  /** Trials that have no value to plot (running, failed, pruned without a value), so the page can say so. */
  unplotted: number;
  xMax: number;
  /** The y range when some trial's value lies far outside the others' (a diverged 1e30 loss), else null: see value_range.ts. */
  yRange: ValueRange | null;
}

/** Best value among finished trials up to and including each trial number; pruned/failed trials never set it. */
export function bestSoFar(trials: readonly TrialRecord[], direction: Direction): Array<{ x: number; y: number }> {
  const out: Array<{ x: number; y: number }> = [];
  let best: number | null = null;
  for (const t of optimizationTrials(trials)) {
    if (t.state === 'COMPLETE' && hasValue(t) && (best === null || better(direction, t.value, best))) best = t.value;
    if (best !== null) out.push({ x: t.number, y: best });
  }
  return out;
}

export function historyData(trials: readonly TrialRecord[], direction: Direction, baselines: { batchnorm: number | null; paper: number | null }): HistoryData {
  const opt = optimizationTrials(trials);
  const xMax = opt.length ? opt[opt.length - 1].number : 1;
  const datasets: Series[] = [];
  let unplotted = 0;
  const values: number[] = [];
  for (const state of ['COMPLETE', 'PRUNED', 'FAIL'] as const) {
    const pts = opt.filter((t) => t.state === state && hasValue(t)).map((t) => ({ x: t.number, y: t.value as number, trialId: t.id, name: trialName(t) }));
    if (pts.length === 0) continue;
    for (const p of pts) values.push(p.y);
    datasets.push({
      label: state === 'COMPLETE' ? 'trial (complete)' : state === 'PRUNED' ? 'trial (pruned)' : 'trial (failed)',
      data: pts,
      type: 'scatter',
      backgroundColor: STATE_COLORS[state],
      borderColor: STATE_COLORS[state],
      pointRadius: 4,
      showLine: false,
      order: 1,
    });
  }
  unplotted = opt.filter((t) => !hasValue(t)).length;
  const bsf = bestSoFar(trials, direction);
  if (bsf.length) {
    // Extend the step line to the last trial so the current best is visible at the right edge.
    if (bsf[bsf.length - 1].x < xMax) bsf.push({ x: xMax, y: bsf[bsf.length - 1].y });
    datasets.push({ label: 'best so far', data: bsf, type: 'line', borderColor: COLORS.bestSoFar, borderWidth: 2, pointRadius: 0, stepped: 'before', order: 0 });
  }
  const hline = (label: string, y: number | null, color: string) => {
    if (y === null || !Number.isFinite(y)) return;
    datasets.push({ label, data: [{ x: 0, y }, { x: xMax, y }], type: 'line', borderColor: color, borderDash: [6, 4], borderWidth: 1.5, pointRadius: 0, order: 2 });
  };
  hline('BatchNorm baseline', baselines.batchnorm, COLORS.batchnorm);
  hline('paper schedule baseline', baselines.paper, COLORS.paper);
  const lines = [baselines.batchnorm, baselines.paper].filter((v): v is number => v !== null);
  return { datasets, unplotted, xMax, yRange: valueRange(values, lines) };
}
