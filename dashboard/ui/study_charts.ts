// Draws the study page's charts from the shaped data; every chart says in words why it is empty when it is.
import type { GpView, ImportanceView, StudyView, TrialRecord } from '../types.js';
import { importanceData } from '../data/importance.js';
import { historyData } from '../data/history.js';
import { finalData } from '../data/final.js';
import { scheduleData } from '../data/schedules.js';
import { curveData, trialCurves } from '../data/curves.js';
import { CHARTED_TRIALS_TEXT, CURVE_CHART_TRIALS } from '../../src/shared/charted.js';
import { clipData } from '../data/clips.js';
import { parallelData, SLICE_POINTS, sliceData, type SpaceHint } from '../data/params.js';
import { gpSliceData } from '../data/gp.js';
import { trialScheduleCurves } from '../data/schedule_curve.js';
import { baselineValues, trialName } from '../data/trials.js';
import { chartOptions, drawChart } from './chart.js';
import { byId, clear, el, showChartOrNote } from './dom.js';

export type OpenTrial = (trialId: number) => void;

const isAccuracy = (metric: string) => /acc/i.test(metric);
const stepAxis = (view: StudyView) => ({ title: view.totalSteps ? 'training step' : 'training step (run length unknown)' });
const noTrials = 'No trials yet — the first results will appear here as soon as a trial reports.';

function metricAxis(view: StudyView) {
  return { title: `${view.metric} (${view.direction === 'maximize' ? 'higher' : 'lower'} is better)`, percent: isAccuracy(view.metric) };
}

function baselinesOf(view: StudyView) {
  const fromTrials = baselineValues(view.trials);
  return { batchnorm: view.baselines?.batchnorm ?? fromTrials.batchnorm, paper: view.baselines?.paper ?? fromTrials.paper };
}

function noCurvesNote(view: StudyView): string {
  return view.executor === 'external'
    ? `No learning curves: none of the trials this chart draws (${CHARTED_TRIALS_TEXT}) reported intermediate values (POST …/report with metrics valAccuracy and valAccuracyTrainMode to see them).`
    : view.trials.length === 0
      ? noTrials
      : 'No progress reports yet — curves appear after the first evaluation interval.';
}

export function renderHistory(view: StudyView, open: OpenTrial): void {
  const h = historyData(view.trials, view.direction, baselinesOf(view));
  const box = byId('chart-history');
  const hasPoints = h.datasets.some((d) => d.type === 'scatter');
  const canvas = showChartOrNote(box, hasPoints ? null : view.trials.length ? 'No finished trial has a value yet.' : noTrials);
  byId('history-foot').textContent = h.unplotted ? `${h.unplotted} trial(s) without a value (running, waiting or failed) are not plotted.` : '';
  if (!hasPoints) return;
  drawChart(canvas, {
    type: 'scatter',
    data: { datasets: h.datasets },
    yRange: h.yRange,
    options: chartOptions({ x: { title: 'trial number', min: 0, max: h.xMax + 1 }, y: metricAxis(view), onTrialClick: open, datasets: h.datasets }),
  });
}

export function renderFinal(view: StudyView): void {
  const f = finalData(view.finalValidation);
  const box = byId('chart-final');
  const note =
    view.state === 'COMPLETE'
      ? 'This study finished without a final validation (finalValidation.seeds = 0, or no baseline to compare with).'
      : view.executor === 'external'
        ? 'Once the search budget is spent, the study\'s asks hand out race runs and then final runs (role final:<arm>, evaluateOn: test); their results appear here.'
        : 'Runs when the search ends: the top tuned schedules race on fresh validation seeds, then the winner, BatchNorm and the paper\'s schedule are retrained on the same fresh seeds and scored on the test set.';
  const canvas = showChartOrNote(box, f ? null : note);
  const foot = byId('final-foot');
  foot.textContent = '';
  if (!f) return;
  foot.textContent = f.notes.join(' ');
  if (f.kind === 'paired') {
    drawChart(canvas, {
      type: 'bar',
      data: { labels: f.labels, datasets: f.datasets },
      options: chartOptions({ x: { title: 'tuned schedule compared with', type: 'category', labels: f.labels, allLabels: true }, y: { title: 'tuned − baseline, same seed (test)', percent: f.fraction, beginAtZero: true } }),
    });
    return;
  }
  drawChart(canvas, {
    type: 'bar',
    data: { labels: f.labels, datasets: f.datasets },
    options: chartOptions({ x: { title: 'schedule', type: 'category', labels: f.labels }, y: { title: 'test accuracy', percent: true, beginAtZero: false } }),
  });
}

export function renderSchedules(view: StudyView, open: OpenTrial): void {
  const s = scheduleData(view.trials, view.direction, view.totalSteps, 5, view.metric);
  const x = view.totalSteps ? { title: 'training step', min: 0, max: view.totalSteps } : { title: 'fraction of training', min: 0, max: 1 };
  const missing = s.missing.length ? ` (${s.missing.join(', ')}: formula schedule, no recorded steps yet)` : '';
  for (const [id, ds, title] of [
    ['chart-rmax', s.rmax, 'rmax'],
    ['chart-dmax', s.dmax, 'dmax'],
  ] as const) {
    const canvas = showChartOrNote(byId(id), ds.length ? null : `Nothing to draw yet${missing}.`);
    if (ds.length) drawChart(canvas, { type: 'line', data: { datasets: ds }, options: chartOptions({ x, y: { title, min: title === 'rmax' ? 1 : 0 }, onTrialClick: open, datasets: ds }) });
  }
}

export function renderCurves(view: StudyView, open: OpenTrial): void {
  const c = curveData(view.trials, view.direction, CURVE_CHART_TRIALS);
  const acc = showChartOrNote(byId('chart-acc'), c.hasCurves ? null : noCurvesNote(view));
  // Reports without metrics.valAccuracy are curves of the study's own metric (an external trainer's loss, say).
  const y = c.fromObjective ? metricAxis(view) : { title: 'val. accuracy', percent: true };
  if (c.hasCurves) drawChart(acc, { type: 'line', data: { datasets: c.accuracy }, yRange: c.yRange, options: chartOptions({ x: stepAxis(view), y, onTrialClick: open, datasets: c.accuracy }) });
  const gapNote = c.hasCurves ? 'Trials reported no train-mode accuracy (metric valAccuracyTrainMode), so the gap cannot be shown.' : noCurvesNote(view);
  const gap = showChartOrNote(byId('chart-gap'), c.hasGap ? null : gapNote);
  if (c.hasGap) drawChart(gap, { type: 'line', data: { datasets: c.gap }, options: chartOptions({ x: stepAxis(view), y: { title: 'gap (train − inference)', percent: true }, onTrialClick: open, datasets: c.gap }) });
}

export function renderClips(view: StudyView, trial: TrialRecord | null): void {
  byId('clip-trial').textContent = trial ? `— ${trialName(trial)}` : '';
  const d = trial ? clipData(trial) : null;
  const note = !trial
    ? view.trials.length
      ? 'No complete trial yet.'
      : noTrials
    : d && d.datasets.length
      ? null
      : view.executor === 'external'
        ? 'This trial reported no clip statistics (report metrics.clip: [{layer, r, d}]).'
        : 'No clip statistics reported for this trial yet.';
  for (const [id, series, what] of [
    ['chart-clip', d?.r ?? [], 'r'],
    ['chart-clip-d', d?.d ?? [], 'd'],
  ] as const) {
    const canvas = showChartOrNote(byId(id), note);
    if (note) continue;
    drawChart(canvas, { type: 'line', data: { datasets: [...series] }, options: chartOptions({ x: stepAxis(view), y: { title: `channels with ${what} clipped`, min: 0, max: 1, percent: true } }) });
  }
}

/** Log scales the GP reported for its parameters (the default space is not in the study config, only overrides are). */
let gpLogScales: Record<string, boolean> = {};

export function spaceOf(view: StudyView): SpaceHint | undefined {
  const s = (view.config as { space?: unknown }).space;
  const declared = s && typeof s === 'object' ? (s as SpaceHint) : {};
  const out: SpaceHint = { ...declared };
  for (const [name, log] of Object.entries(gpLogScales)) if (log && out[name]?.log === undefined) out[name] = { ...out[name], log: true };
  return Object.keys(out).length ? out : undefined;
}

export function renderParallel(view: StudyView, open: OpenTrial): void {
  const p = parallelData(view.trials, view.direction, spaceOf(view));
  const canvas = showChartOrNote(byId('chart-parallel'), p.drawn ? null : 'Needs complete trials with parameters (baselines have none).');
  byId('parallel-foot').textContent = p.total > p.drawn ? `Showing the best ${p.drawn} of ${p.total} trials.` : '';
  if (!p.drawn) return;
  drawChart(canvas, {
    type: 'line',
    data: { labels: p.labels, datasets: p.datasets },
    options: {
      ...chartOptions({ x: { title: '', type: 'category', allLabels: true }, y: { title: 'position within each axis range', min: 0, max: 1, hideTicks: true }, legend: false, onTrialClick: open, datasets: p.datasets }),
      interaction: { mode: 'nearest', intersect: true },
    },
  });
}

/** Keeps one small chart per name inside `root`, rebuilding only when the set of names changes. */
function smallMultiples(root: HTMLElement, names: string[]): Map<string, HTMLElement> {
  const key = names.join('\u0000');
  if (root.dataset.key !== key) {
    clear(root);
    root.dataset.key = key;
    for (const n of names) root.appendChild(el('div', { class: 'mini' }, el('h3', {}, n), el('div', { class: 'chart-box small' })));
  }
  const out = new Map<string, HTMLElement>();
  root.querySelectorAll<HTMLElement>('.mini').forEach((m, i) => out.set(names[i], m.querySelector<HTMLElement>('.chart-box')!));
  return out;
}

export function renderSlices(view: StudyView, open: OpenTrial): void {
  const { slices, drawn, total } = sliceData(view.trials, view.direction, spaceOf(view));
  byId('slices-foot').textContent = total > drawn ? `Showing ${drawn} of ${total} trials: the best ${Math.floor(SLICE_POINTS / 4)} and an even sample of the rest.` : '';
  const root = byId('slices');
  if (slices.length === 0) {
    smallMultiples(root, []);
    root.appendChild(el('p', { class: 'note' }, view.trials.length ? 'No finished trial with parameters yet.' : noTrials));
    root.dataset.key = '';
    return;
  }
  const boxes = smallMultiples(root, slices.map((s) => s.param.name));
  for (const s of slices) {
    const canvas = showChartOrNote(boxes.get(s.param.name)!, null);
    const x = s.param.type === 'categorical' ? { title: s.param.name, type: 'category' as const, labels: s.param.choices } : { title: s.param.name, type: s.param.log ? ('logarithmic' as const) : ('linear' as const) };
    drawChart(canvas, { type: 'scatter', data: { datasets: s.datasets }, yRange: s.yRange, options: chartOptions({ x, y: { title: view.metric, percent: isAccuracy(view.metric) }, legend: false, onTrialClick: open, datasets: s.datasets }) });
  }
}

/** The parameters' importance as horizontal bars, largest on top. */
export function renderImportance(imp: ImportanceView | null, error: string | null = null): void {
  const d = importanceData(imp, error);
  const canvas = showChartOrNote(byId('importance'), 'note' in d ? d.note : null);
  byId('importance-foot').textContent = 'note' in d ? '' : d.foot;
  if ('note' in d) return;
  drawChart(canvas, {
    type: 'bar',
    data: { labels: d.labels, datasets: d.datasets },
    options: { ...chartOptions({ x: { title: 'share of the variation', percent: true, beginAtZero: true }, y: { title: '', type: 'category', labels: d.labels, allLabels: true }, legend: false }), indexAxis: 'y' },
  });
}

export function renderGp(view: StudyView, gp: GpView | null, error: string | null, onScales?: () => void): void {
  const root = byId('gp');
  const reason = error ?? (!gp ? 'Loading…' : !gp.available || !gp.slices?.length ? `The GP's view is unavailable: ${gp.reason ?? 'not enough complete trials to fit it yet'}.` : null);
  if (reason) {
    smallMultiples(root, []);
    root.dataset.key = '';
    root.appendChild(el('p', { class: 'note' }, reason));
    return;
  }
  const logs = Object.fromEntries(gp!.slices!.map((s) => [s.name, s.log === true]));
  const changed = JSON.stringify(logs) !== JSON.stringify(gpLogScales);
  gpLogScales = logs;
  // Slices and parallel coordinates were drawn before the GP answered: redraw them on the GP's log scales.
  if (changed && onScales) onScales();
  const slices = gp!.slices!.map((s) => gpSliceData(s, gp!.center));
  const boxes = smallMultiples(root, slices.map((s) => s.name));
  for (const s of slices) {
    const canvas = showChartOrNote(boxes.get(s.name)!, null);
    const x = s.categorical ? { title: s.name, type: 'category' as const, labels: s.labels } : { title: s.name, type: s.log ? ('logarithmic' as const) : ('linear' as const) };
    drawChart(canvas, { type: 'line', data: { datasets: s.datasets }, options: chartOptions({ x, y: { title: `${view.metric} (GP)` }, y2: { title: 'acquisition' }, legend: false }) });
  }
}

/** The detail panel's two charts for one trial: its schedule and its curves. */
export function renderTrialCharts(view: StudyView, t: TrialRecord): void {
  const sc = trialScheduleCurves(t, view.totalSteps);
  const sCanvas = showChartOrNote(byId('chart-detail-schedule'), sc ? null : 'Formula schedule: no recorded clipping yet.');
  if (sc) {
    const ds = [
      { label: 'rmax', data: sc.rmax, type: 'line' as const, borderColor: '#2563eb', pointRadius: 0, yAxisID: 'y' },
      { label: 'dmax', data: sc.dmax, type: 'line' as const, borderColor: '#d97706', pointRadius: 0, yAxisID: 'y2' },
    ];
    drawChart(sCanvas, { type: 'line', data: { datasets: ds }, options: chartOptions({ x: view.totalSteps ? { title: 'training step' } : { title: 'fraction of training' }, y: { title: 'rmax' }, y2: { title: 'dmax' } }) });
  }
  const c = trialCurves(t);
  const cCanvas = showChartOrNote(byId('chart-detail-curves'), c.accuracy.length ? null : 'This trial reported no learning curve.');
  if (c.accuracy.length) {
    const ds = [
      { label: c.fromObjective ? view.metric : 'inference-mode accuracy', data: c.accuracy, type: 'line' as const, borderColor: '#059669', pointRadius: 0, yAxisID: 'y' },
      { label: 'train − inference gap', data: c.gap, type: 'line' as const, borderColor: '#dc2626', borderDash: [5, 4], pointRadius: 0, yAxisID: 'y2' },
    ];
    drawChart(cCanvas, { type: 'line', data: { datasets: ds }, yRange: c.yRange, options: chartOptions({ x: stepAxis(view), y: c.fromObjective ? metricAxis(view) : { title: 'accuracy', percent: true }, y2: { title: 'gap', percent: true } }) });
  }
}
