// Draws rmax(t)/dmax(t) of the built-in schedule kinds in the browser with the shared ramp maths; formula schedules use the trial's recorded clipping instead.
import { BATCHNORM_CLIPPING, paperAsRamp, rampAt } from '../../src/shared/ramp.js';
import type { ScheduleSpec, TrialRecord, Point } from '../types.js';

export interface ClipPoint {
  rmax: number;
  dmax: number;
}

/** rmax and dmax at relative time t in [0, 1] for a built-in kind (the server's own maths, src/shared/ramp.ts); null for formula schedules (evaluated server-side only). */
export function clippingAt(spec: ScheduleSpec, t: number): ClipPoint | null {
  switch (spec.kind) {
    case 'batchnorm':
      return { rmax: BATCHNORM_CLIPPING.rmax, dmax: BATCHNORM_CLIPPING.dmax };
    case 'paper':
    case 'ramp': {
      const c = rampAt(spec.kind === 'paper' ? paperAsRamp(spec) : spec, t);
      return { rmax: c.rmax, dmax: c.dmax };
    }
    default:
      return null;
  }
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
