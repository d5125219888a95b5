// Evaluates rmax(t)/dmax(t) of the built-in schedule kinds in the browser; formula schedules use the trial's recorded clipping instead.
import type { ScheduleSpec, TrialRecord, RampShape, Point } from '../types.js';

export interface ClipPoint {
  rmax: number;
  dmax: number;
}

const PAPER = { warmup: 0.1, rmaxEnd: 0.8, dmaxEnd: 0.5, rmaxFinal: 3, dmaxFinal: 5 };

function progress(t: number, warmup: number, end: number): number {
  if (t <= warmup) return 0;
  if (t >= end) return 1;
  return (t - warmup) / (end - warmup);
}

/**
 * Ramp values, identical to src/schedule/ramp.ts (a unit test compares them point by point): linear, half-cosine,
 * and for `exponential` geometric on log(r) (r = rmaxFinal^u) and on log(1 + d) (d = (1 + dmaxFinal)^u - 1).
 */
function unitEase(shape: 'linear' | 'cosine', u: number): number {
  return shape === 'linear' ? u : (1 - Math.cos(Math.PI * u)) / 2;
}

function rmaxRamp(shape: RampShape, u: number, final: number): number {
  if (u >= 1) return final;
  const v = shape === 'exponential' ? Math.pow(final, u) : 1 + (final - 1) * unitEase(shape, u);
  return Math.max(1, Math.min(final, v));
}

function dmaxRamp(shape: RampShape, u: number, final: number): number {
  if (u >= 1) return final;
  const v = shape === 'exponential' ? Math.pow(1 + final, u) - 1 : final * unitEase(shape, u);
  return Math.max(0, Math.min(final, v));
}

/** rmax and dmax at relative time t in [0, 1] for a built-in kind; null for formula schedules (evaluated server-side only). */
export function clippingAt(spec: ScheduleSpec, t: number): ClipPoint | null {
  switch (spec.kind) {
    case 'batchnorm':
      return { rmax: 1, dmax: 0 };
    case 'paper': {
      const p = { ...PAPER, ...stripUndefined(spec) };
      return {
        rmax: rmaxRamp('linear', progress(t, p.warmup, p.rmaxEnd), p.rmaxFinal),
        dmax: dmaxRamp('linear', progress(t, p.warmup, p.dmaxEnd), p.dmaxFinal),
      };
    }
    case 'ramp':
      return {
        rmax: rmaxRamp(spec.shape, progress(t, spec.warmup, spec.rmaxEnd), spec.rmaxFinal),
        dmax: dmaxRamp(spec.shape, progress(t, spec.warmup, spec.dmaxEnd), spec.dmaxFinal),
      };
    default:
      return null;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && k !== 'kind') (out as Record<string, unknown>)[k] = v;
  return out;
}

export interface ScheduleCurves {
  rmax: Point[];
  dmax: Point[];
  /** Where the curve came from, shown to the user for formula schedules. */
  source: 'spec' | 'recorded';
}

/**
 * rmax/dmax curves of a trial with x in steps (or in t when the run length is unknown). Formula schedules come from
 * the per-step clipping the trainer recorded; null when there is nothing to draw (a formula trial with no progress yet).
 */
export function trialScheduleCurves(trial: Pick<TrialRecord, 'schedule' | 'intermediate'>, totalSteps: number | null, points = 101): ScheduleCurves | null {
  const scale = totalSteps && totalSteps > 0 ? totalSteps : 1;
  if (trial.schedule.kind !== 'formula') {
    const rmax: Point[] = [];
    const dmax: Point[] = [];
    for (let i = 0; i < points; i++) {
      const t = i / (points - 1);
      const c = clippingAt(trial.schedule, t)!;
      rmax.push({ x: t * scale, y: c.rmax });
      dmax.push({ x: t * scale, y: c.dmax });
    }
    return { rmax, dmax, source: 'spec' };
  }
  const rmax: Point[] = [];
  const dmax: Point[] = [];
  for (const iv of trial.intermediate) {
    const m = iv.metrics ?? {};
    const x = iv.step;
    if (typeof m.rmax === 'number' && Number.isFinite(m.rmax)) rmax.push({ x, y: m.rmax });
    if (typeof m.dmax === 'number' && Number.isFinite(m.dmax)) dmax.push({ x, y: m.dmax });
  }
  if (rmax.length === 0 && dmax.length === 0) return null;
  return { rmax, dmax, source: 'recorded' };
}

/** A short human description of a schedule for tables and tooltips. */
export function describeSpec(spec: ScheduleSpec): string {
  const f = (v: number) => (Math.round(v * 100) / 100).toString();
  switch (spec.kind) {
    case 'batchnorm':
      return 'BatchNorm (rmax 1, dmax 0)';
    case 'paper': {
      const p = { ...PAPER, ...stripUndefined(spec) };
      return `paper: warmup ${f(p.warmup)}, rmax→${f(p.rmaxFinal)}@${f(p.rmaxEnd)}, dmax→${f(p.dmaxFinal)}@${f(p.dmaxEnd)}`;
    }
    case 'ramp':
      return `${spec.shape} ramp: warmup ${f(spec.warmup)}, rmax→${f(spec.rmaxFinal)}@${f(spec.rmaxEnd)}, dmax→${f(spec.dmaxFinal)}@${f(spec.dmaxEnd)}`;
    case 'formula':
      return `formula: rmax=${spec.rmax}; dmax=${spec.dmax}`;
    default:
      return 'unknown schedule';
  }
}
