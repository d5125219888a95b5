// Learning curves: inference-mode validation accuracy per trial and the train-mode minus inference-mode gap, decimated.
import type { Direction, Point, Series, TrialRecord } from '../types.js';
import { lttb } from './decimate.js';
import { COLORS, rankColor } from './palette.js';
import { accuracies, topTrialsWithBaselines, trialName, trialRole } from './trials.js';
import { valueRange, type ValueRange } from './value_range.js';
import { TRIGGER } from '../../src/shared/bulk.js';
import { isOpen } from '../../src/shared/attempts.js';

export interface CurveData {
  accuracy: Series[];
  gap: Series[];
  /** False when no drawn trial has any progress report (external studies that never call report). */
  hasCurves: boolean;
  hasGap: boolean;
  /**
   * True when some drawn point is a report's own value (the study's objective metric: an external trainer's loss or
   * mAP) rather than its metrics.valAccuracy, so the axis must name the study's metric, not accuracy.
   */
  fromObjective: boolean;
  /** The accuracy chart's y range when a reported value lies TRIGGER IQRs outside the others (a diverged loss), else null. */
  yRange: ValueRange | null;
}

/** The two curves of one trial, each decimated to at most `maxPoints`, and the y range of its own chart (the trial's detail). */
export function trialCurves(t: Pick<TrialRecord, 'intermediate'>, maxPoints = 200): { accuracy: Point[]; gap: Point[]; fromObjective: boolean; yRange: ValueRange | null } {
  const c = curvesOf(t, maxPoints);
  return { ...c, yRange: valueRange(c.accuracy.map((p) => p.y), [], TRIGGER) };
}

/** The two curves alone: the study's chart takes one range over all its trials' points. */
function curvesOf(t: Pick<TrialRecord, 'intermediate'>, maxPoints: number): { accuracy: Point[]; gap: Point[]; fromObjective: boolean } {
  const acc: Point[] = [];
  const gap: Point[] = [];
  let fromObjective = false;
  const sorted = [...t.intermediate].sort((a, b) => a.step - b.step);
  for (const iv of sorted) {
    const a = accuracies(iv);
    if (a.inference !== null && Number.isFinite(a.inference)) {
      acc.push({ x: iv.step, y: a.inference });
      if (typeof iv.metrics?.valAccuracy !== 'number') fromObjective = true;
    }
    if (a.inference !== null && a.train !== null && Number.isFinite(a.train - a.inference)) gap.push({ x: iv.step, y: a.train - a.inference });
  }
  return { accuracy: lttb(acc, maxPoints), gap: lttb(gap, maxPoints), fromObjective };
}

/**
 * Curves of the best `topN` trials plus baselines (with hundreds of trials only these stay legible), and of every
 * unfinished trial, followed live as it reports (dotted, labelled so).
 */
export function curveData(trials: readonly TrialRecord[], direction: Direction, topN = 8, maxPoints = 200): CurveData {
  const top = topTrialsWithBaselines(trials, direction, topN);
  const shown = new Set(top);
  const unfinished = trials.filter((t) => isOpen(t.state) && !shown.has(t));
  const out: CurveData = { accuracy: [], gap: [], hasCurves: false, hasGap: false, fromObjective: false, yRange: null };
  [...top, ...unfinished].forEach((t, i) => {
    const c = curvesOf(t, maxPoints);
    const role = trialRole(t);
    const live = i >= top.length;
    const color = role === 'paper' ? COLORS.paper : role === 'batchnorm' ? COLORS.batchnorm : rankColor(i);
    const dash = role === 'paper' ? [6, 4] : role === 'batchnorm' ? [2, 3] : live ? [1, 2] : undefined;
    const style = { type: 'line' as const, borderColor: color, borderDash: dash, borderWidth: i === 0 && role === 'search' ? 3 : 1.5, pointRadius: 0, trialId: t.id };
    const label = live ? `${trialName(t)} (${t.state.toLowerCase()})` : trialName(t);
    if (c.accuracy.length) {
      out.hasCurves = true;
      out.fromObjective ||= c.fromObjective;
      out.accuracy.push({ label, data: c.accuracy, ...style });
    }
    if (c.gap.length) {
      out.hasGap = true;
      out.gap.push({ label, data: c.gap, ...style });
    }
  });
  out.yRange = valueRange(out.accuracy.flatMap((s) => (s.data as Point[]).map((p) => p.y)), [], TRIGGER);
  return out;
}
