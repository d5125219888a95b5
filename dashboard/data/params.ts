// Parameter views: a slice (value vs parameter) per parameter and parallel coordinates on normalised axes.
import type { Direction, ParamValue, Series, TrialRecord } from '../types.js';
import { valueColor } from './palette.js';
import { hasValue, rankedTrials, trialName, trialRole } from './trials.js';
import { valueRange, type ValueRange } from './value_range.js';

export interface ParamInfo {
  name: string;
  type: 'numeric' | 'categorical';
  log: boolean;
  /** Observed (or declared) range for numeric params; choices in declared, else sorted, order for categoricals. */
  min: number;
  max: number;
  choices: string[];
}

/** A space hint as found in a study config (`config.space`): only the fields the dashboard needs. */
export type SpaceHint = Record<string, { type?: string; log?: boolean; low?: number; high?: number; choices?: ParamValue[] }>;

/** Parameters seen in the trials, typed by their values, with log scaling taken from the space when it says so. */
export function paramInfo(trials: readonly TrialRecord[], space?: SpaceHint): ParamInfo[] {
  const names: string[] = [];
  const values = new Map<string, ParamValue[]>();
  for (const t of trials) {
    for (const [k, v] of Object.entries(t.params ?? {})) {
      if (!values.has(k)) {
        values.set(k, []);
        names.push(k);
      }
      values.get(k)!.push(v);
    }
  }
  return names.map((name) => {
    const vs = values.get(name)!;
    const hint = space?.[name];
    const categorical = hint?.type === 'categorical' || vs.some((v) => typeof v !== 'number');
    if (categorical) {
      // Declared order first, then the rest sorted: first-seen order would make axes flip between live refreshes.
      const choices: string[] = (hint?.choices ?? []).map(String);
      const extra = [...new Set(vs.map(String))].filter((c) => !choices.includes(c)).sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
      choices.push(...extra);
      return { name, type: 'categorical', log: false, min: 0, max: Math.max(choices.length - 1, 1), choices };
    }
    // A loop, not Math.min(...nums): spread arguments overflow the stack past ~120,000 values.
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of vs as number[]) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const min = typeof hint?.low === 'number' ? hint.low : lo;
    const max = typeof hint?.high === 'number' ? hint.high : hi;
    const log = hint?.log === true && min > 0;
    return { name, type: 'numeric', log, min, max, choices: [] };
  });
}

/** Position of a value on a [0, 1] axis (log axes in log space; categoricals evenly spaced); NaN when missing. */
export function normalize(p: ParamInfo, v: ParamValue | undefined): number {
  if (v === undefined) return NaN;
  if (p.type === 'categorical') {
    const i = p.choices.indexOf(String(v));
    return p.choices.length <= 1 ? 0.5 : i / (p.choices.length - 1);
  }
  const x = Number(v);
  if (p.max === p.min) return 0.5;
  if (p.log) return (Math.log(x) - Math.log(p.min)) / (Math.log(p.max) - Math.log(p.min));
  return (x - p.min) / (p.max - p.min);
}

export interface SliceData {
  param: ParamInfo;
  datasets: Series[];
  /** The y range when a value lies far outside the others (value_range.ts), else null. */
  yRange: ValueRange | null;
}

export interface Slices {
  slices: SliceData[];
  /** Trials drawn in each slice, of `total` with a value. */
  drawn: number;
  total: number;
}

/**
 * Trials a slice draws at most. Each point is a chart.js element with its own colour: 100,000 of them per parameter
 * took 12 s to draw for 7 parameters, a page no one can use.
 */
export const SLICE_POINTS = 2000;

/**
 * One slice plot per parameter: each trial with a value, coloured from early (dark) to late (bright) trials. Past
 * `maxPoints` trials it draws the best quarter of them and an even sample by trial number of the rest, so both where
 * the optimizer converged and what it tried stay visible.
 */
export function sliceData(trials: readonly TrialRecord[], direction: Direction, space?: SpaceHint, maxPoints = SLICE_POINTS): Slices {
  // Baselines have no parameters: they are in no slice, and are not sampled.
  const withValue = trials.filter((t) => hasValue(t) && (t.state === 'COMPLETE' || t.state === 'PRUNED') && trialRole(t) !== 'final' && Object.keys(t.params ?? {}).length > 0);
  const drawn = sampleTrials(withValue, direction, maxPoints);
  let maxNum = 1;
  for (const t of withValue) maxNum = Math.max(maxNum, t.number);
  const slices = paramInfo(withValue, space).map((param): SliceData => {
    const pts = drawn.filter((t) => t.params[param.name] !== undefined);
    const data = pts.map((t) => ({
      x: param.type === 'categorical' ? String(t.params[param.name]) : Number(t.params[param.name]),
      y: t.value as number,
      trialId: t.id,
      name: trialName(t),
    }));
    const colors = pts.map((t) => valueColor(t.number / maxNum, 0.85));
    return {
      param,
      datasets: [{ label: `${param.name}`, data, type: 'scatter', pointRadius: 4, pointBackgroundColor: colors, borderColor: 'rgba(0,0,0,0.25)', showLine: false }],
      yRange: valueRange(data.map((d) => d.y)),
    };
  });
  return { slices, drawn: drawn.length, total: withValue.length };
}

/** At most `max` of `trials` (all when they fit): the best max/4, then evenly spaced ones of the rest; in trial order. */
function sampleTrials(trials: readonly TrialRecord[], direction: Direction, max: number): TrialRecord[] {
  if (trials.length <= max) return trials.slice();
  const best = rankedTrials(trials, direction).slice(0, Math.floor(max / 4));
  const taken = new Set(best.map((t) => t.id));
  const rest = trials.filter((t) => !taken.has(t.id));
  const more = max - best.length;
  const picked = [...best];
  for (let k = 0; k < more; k++) picked.push(rest[Math.floor((k * rest.length) / more)]!);
  return picked.sort((a, b) => a.number - b.number);
}

export interface ParallelData {
  /** Axis labels: [name, range] per parameter, then the objective. */
  labels: string[][];
  datasets: Series[];
  drawn: number;
  total: number;
}

/**
 * Parallel coordinates: one line per complete trial across normalised parameter axes and the objective, coloured by
 * rank (best brightest, drawn last so it sits on top). At most `maxLines` lines, the best ones.
 */
export function parallelData(trials: readonly TrialRecord[], direction: Direction, space?: SpaceHint, maxLines = 100): ParallelData {
  const ranked = rankedTrials(trials, direction).filter((t) => Object.keys(t.params ?? {}).length > 0);
  const params = paramInfo(ranked, space);
  const total = ranked.length;
  const chosen = ranked.slice(0, maxLines);
  const vals = chosen.map((t) => t.value as number);
  // The objective's axis spans the bulk: a diverged 1e30 would put every other line at its bottom, in one colour.
  const range = valueRange(vals);
  const vmin = range ? Math.max(range.min, Math.min(...vals)) : Math.min(...vals);
  const vmax = range ? Math.min(range.max, Math.max(...vals)) : Math.max(...vals);
  const fmt = (v: number) => (Math.abs(v) >= 100 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(1) : String(Number(v.toPrecision(3))));
  const labels = params.map((p) => [p.name, p.type === 'categorical' ? (p.choices.length > 1 ? `${p.choices[0]} … ${p.choices[p.choices.length - 1]}` : p.choices[0] ?? '') : `${fmt(p.min)} … ${fmt(p.max)}${p.log ? ' (log)' : ''}`]);
  labels.push(['objective', total ? `${fmt(vmin)} … ${fmt(vmax)}${range?.off.length ? ` (${range.off.length} off the scale)` : ''}` : '']);
  const datasets: Series[] = [];
  // Worst first so the best lines are painted over the rest.
  for (let i = chosen.length - 1; i >= 0; i--) {
    const t = chosen[i];
    const v = t.value as number;
    const vNorm = vmax === vmin ? 0.5 : Math.min(1, Math.max(0, (v - vmin) / (vmax - vmin)));
    const goodness = direction === 'maximize' ? vNorm : 1 - vNorm;
    const data = params.map((p) => {
      const y = normalize(p, t.params[p.name]);
      return Number.isFinite(y) ? y : null;
    });
    data.push(vNorm);
    datasets.push({ label: trialName(t), data, type: 'line', borderColor: valueColor(goodness, i === 0 ? 1 : 0.55), borderWidth: i === 0 ? 3 : 1, pointRadius: 0, trialId: t.id });
  }
  return { labels, datasets, drawn: chosen.length, total };
}
