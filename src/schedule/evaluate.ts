// Turns a schedule (or an export, or an asked trial) into clipping limits at a step, absolute breakpoints and a one-line description.
import { ConfigError } from '../errors.js';
import { compileFormula, evalFormula } from './formula.js';
import { BATCHNORM_CLIPPING, paperAsRamp, rampAt } from '../shared/ramp.js';
import type { Clipping, ExportedSchedule, FormulaSchedule, ScheduleSpec, ScheduledTrial } from './types.js';

export function isExportedSchedule(s: unknown): s is ExportedSchedule {
  return typeof s === 'object' && s !== null && (s as { format?: unknown }).format === 'renorm-tune/schedule';
}

/** Anything that carries a schedule and the run length it was resolved for (an export, an asked trial), else the schedule itself. */
function unwrap(s: ScheduleSpec | ExportedSchedule | ScheduledTrial): { spec: ScheduleSpec; ownSteps: number | undefined } {
  if ('kind' in s) return { spec: s, ownSteps: undefined };
  const ownSteps = typeof s.totalSteps === 'number' ? s.totalSteps : undefined;
  return { spec: s.schedule, ownSteps };
}

/** Formula values the trainer can use safely; anything else is a config bug surfaced with the step it happened at. */
function formulaAt(spec: FormulaSchedule, t: number, step: number, totalSteps: number): Clipping {
  const scope = { t, step, totalSteps };
  const rmax = evalFormula(compileFormula(spec.rmax, 'schedule.rmax'), scope);
  const dmax = evalFormula(compileFormula(spec.dmax, 'schedule.dmax'), scope);
  const rmin = spec.rmin === undefined ? 1 / rmax : evalFormula(compileFormula(spec.rmin, 'schedule.rmin'), scope);
  const where = `at step ${step} of ${totalSteps} (t = ${t})`;
  if (!Number.isFinite(rmax) || rmax < 1) throw new ConfigError('schedule.rmax', `evaluates to ${rmax} ${where}; rmax must be a finite number >= 1`, 'keep rmax >= 1, e.g. 1 + 2 * clamp(t, 0, 1)');
  if (!Number.isFinite(dmax) || dmax < 0) throw new ConfigError('schedule.dmax', `evaluates to ${dmax} ${where}; dmax must be a finite number >= 0`, 'keep dmax >= 0, e.g. 5 * clamp(t, 0, 1)');
  if (!Number.isFinite(rmin) || rmin <= 0 || rmin > 1) throw new ConfigError('schedule.rmin', `evaluates to ${rmin} ${where}; rmin must be in (0, 1]`, 'leave rmin out (it defaults to 1 / rmax)');
  return { rmax, rmin, dmax };
}

/**
 * Clipping limits at `step` of a run of `totalSteps`. Time is relative (t = step / totalSteps, clamped to [0, 1]),
 * so a schedule tuned on short runs stretches to long ones: pass your run's length and any schedule, export or
 * asked trial stretches to it. An export or an asked trial brings its own run length, used when `totalSteps` is left out.
 */
export function scheduleAt(schedule: ScheduleSpec | ExportedSchedule | ScheduledTrial, step: number, totalSteps?: number): Clipping {
  const { spec, ownSteps } = unwrap(schedule);
  // A NaN step gave NaN limits (for every kind but BatchNorm), which no layer can apply.
  if (!Number.isFinite(step)) throw new ConfigError('step', `must be a finite number, got ${step}`, 'pass the training step the limits are for');
  totalSteps ??= ownSteps;
  if (spec.kind === 'batchnorm') return { ...BATCHNORM_CLIPPING };
  if (totalSteps === undefined || !(totalSteps > 0)) {
    throw new ConfigError('totalSteps', `must be a positive number to resolve a '${spec.kind}' schedule, got ${totalSteps}`, 'pass the run length in steps');
  }
  const t = Math.min(1, Math.max(0, step / totalSteps));
  switch (spec.kind) {
    case 'paper':
      return rampAt(paperAsRamp(spec), t);
    case 'ramp':
      return rampAt(spec, t);
    case 'formula':
      return formulaAt(spec, t, step, totalSteps);
    default:
      throw new ConfigError('schedule.kind', `unknown kind ${JSON.stringify((spec as { kind: unknown }).kind)}`, 'use batchnorm, paper, ramp or formula');
  }
}

/** Absolute breakpoints of a run of `totalSteps` (what a person sets in another framework's config). */
export function resolveSchedule(spec: ScheduleSpec, totalSteps: number): Record<string, number | string> {
  const out: Record<string, number | string> = { kind: spec.kind, totalSteps };
  if (spec.kind === 'batchnorm') return { ...out, rmax: 1, dmax: 0 };
  if (spec.kind === 'formula') {
    const f: Record<string, number | string> = { ...out, rmax: spec.rmax, dmax: spec.dmax };
    if (spec.rmin !== undefined) f.rmin = spec.rmin;
    return f;
  }
  const r = spec.kind === 'paper' ? paperAsRamp(spec) : spec;
  return {
    ...out,
    shape: r.shape,
    warmupSteps: Math.round(r.warmup * totalSteps),
    rmaxEndStep: Math.round(r.rmaxEnd * totalSteps),
    dmaxEndStep: Math.round(r.dmaxEnd * totalSteps),
    rmaxFinal: r.rmaxFinal,
    dmaxFinal: r.dmaxFinal,
  };
}

export { describeSchedule } from '../shared/describe.js';

/**
 * Whether the limits only ever loosen (rmax and dmax never decrease, rmin never increases) on a grid of `points` times.
 * Built-in ramps always are; a formula may legitimately tighten again, which is worth showing to people.
 */
export function isMonotone(spec: ScheduleSpec, totalSteps = 1000, points = 1001): boolean {
  let prev: Clipping | undefined;
  for (let i = 0; i < points; i++) {
    const c = scheduleAt(spec, (i * totalSteps) / (points - 1), totalSteps);
    if (prev && (c.rmax < prev.rmax - 1e-12 || c.dmax < prev.dmax - 1e-12 || c.rmin > prev.rmin + 1e-12)) return false;
    prev = c;
  }
  return true;
}
