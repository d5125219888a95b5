// Closed-form clipping limits of the built-in schedules (batchnorm, paper, ramp) as functions of relative time t.
// Browser-safe (src/shared/): the dashboard draws schedule curves with these same functions.
import type { Clipping, PaperSchedule, RampSchedule, RampShape } from '../schedule/types.js';

/** Ioffe (2017), Sec. 4: BatchNorm for 5k steps, rmax reaches 3 at 40k, dmax reaches 5 at 25k, of a 50k-step run. */
export const PAPER_DEFAULTS = { warmup: 0.1, rmaxFinal: 3, rmaxEnd: 0.8, dmaxFinal: 5, dmaxEnd: 0.5 } as const;

export const RAMP_SHAPES: readonly RampShape[] = ['linear', 'cosine', 'exponential'];

export const BATCHNORM_CLIPPING: Readonly<Clipping> = Object.freeze({ rmax: 1, rmin: 1, dmax: 0 });

/** A paper schedule is a linear ramp with the paper's defaults for anything left out. */
export function paperAsRamp(spec: PaperSchedule): RampSchedule {
  return {
    kind: 'ramp',
    shape: 'linear',
    warmup: spec.warmup ?? PAPER_DEFAULTS.warmup,
    rmaxFinal: spec.rmaxFinal ?? PAPER_DEFAULTS.rmaxFinal,
    rmaxEnd: spec.rmaxEnd ?? PAPER_DEFAULTS.rmaxEnd,
    dmaxFinal: spec.dmaxFinal ?? PAPER_DEFAULTS.dmaxFinal,
    dmaxEnd: spec.dmaxEnd ?? PAPER_DEFAULTS.dmaxEnd,
  };
}

/** Progress in [0, 1] of a ramp that starts at `start` and ends at `end` (a zero-length ramp is a step). */
function progress(t: number, start: number, end: number): number {
  if (t <= start) return 0;
  if (t >= end) return 1;
  return (t - start) / (end - start);
}

/**
 * Eases for u in [0, 1]; every one is non-decreasing with ease(0) = 0 and ease(1) = 1.
 * `exponential` is geometric, so it cannot start from dmax = 0 directly: r is interpolated on log(r)
 * (r = rmaxFinal^u) and d on log(1 + d) (d = (1 + dmaxFinal)^u - 1). Both start slowly and accelerate,
 * and both are well-defined for every final value the validator allows (rmaxFinal >= 1, dmaxFinal >= 0).
 */
function easeR(shape: RampShape, u: number, final: number): number {
  if (shape === 'exponential') return Math.pow(final, u);
  return 1 + (final - 1) * easeUnit(shape, u);
}

function easeD(shape: RampShape, u: number, final: number): number {
  if (shape === 'exponential') return Math.pow(1 + final, u) - 1;
  return final * easeUnit(shape, u);
}

function easeUnit(shape: 'linear' | 'cosine', u: number): number {
  return shape === 'linear' ? u : (1 - Math.cos(Math.PI * u)) / 2;
}

export function rampAt(spec: RampSchedule, t: number): Clipping {
  const ur = progress(t, spec.warmup, spec.rmaxEnd);
  const ud = progress(t, spec.warmup, spec.dmaxEnd);
  // Clamp against rounding so the ends are exact and rmax never dips below 1 (r in [1/rmax, rmax] must contain 1).
  const rmax = ur >= 1 ? spec.rmaxFinal : Math.max(1, Math.min(spec.rmaxFinal, easeR(spec.shape, ur, spec.rmaxFinal)));
  const dmax = ud >= 1 ? spec.dmaxFinal : Math.max(0, Math.min(spec.dmaxFinal, easeD(spec.shape, ud, spec.dmaxFinal)));
  return { rmax, rmin: 1 / rmax, dmax };
}
