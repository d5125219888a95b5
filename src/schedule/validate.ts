// Checks an untrusted schedule (config file, REST body, optimizer output) once at load time, so training never meets a bad one.
import { ConfigError } from '../errors.js';
import { expectNumber, expectObject, expectOneOf, expectString, rejectUnknown, type Json } from '../config/fields.js';
import { compileFormula, evalFormula, usesRunLength } from './formula.js';
import { PAPER_DEFAULTS, RAMP_SHAPES } from '../shared/ramp.js';
import type { FormulaSchedule, PaperSchedule, RampSchedule, ScheduleSpec } from './types.js';

const KINDS = ['batchnorm', 'paper', 'ramp', 'formula'] as const;
/** Formulas are sampled on this many evenly spaced t in [0, 1]: fine enough to catch poles and sign changes in practice. */
export const FORMULA_GRID_POINTS = 1001;
/** Run length given to a formula over `t` alone while checking it (its values do not depend on it). */
const NOMINAL_TOTAL_STEPS = 1000;

export interface ValidateScheduleOptions {
  /**
   * Check formulas at the steps of this run length. Left out (the run length is not known yet, as for an enqueued
   * schedule or a `--schedule` file), a formula that reads `step` or `totalSteps` is only parsed: its values are
   * checked where the length is known (the study's enqueue, the trainer), since at another length they differ.
   */
  totalSteps?: number;
}

export function validateSchedule(raw: unknown, field = 'schedule', opts: ValidateScheduleOptions = {}): ScheduleSpec {
  const obj = expectObject(raw, field, 'give an object such as {"kind": "paper"}');
  const kind = expectOneOf(obj.kind, `${field}.kind`, KINDS);
  switch (kind) {
    case 'batchnorm':
      rejectUnknown(obj, field, ['kind']);
      return { kind };
    case 'paper':
      return validatePaper(obj, field);
    case 'ramp':
      return validateRamp(obj, field);
    case 'formula':
      return validateFormula(obj, field, opts.totalSteps);
  }
}

const RAMP_FIELDS = ['warmup', 'rmaxFinal', 'rmaxEnd', 'dmaxFinal', 'dmaxEnd'] as const;

function rampNumbers(obj: Json, field: string): Partial<Record<(typeof RAMP_FIELDS)[number], number>> {
  const out: Partial<Record<(typeof RAMP_FIELDS)[number], number>> = {};
  for (const name of ['warmup', 'rmaxEnd', 'dmaxEnd'] as const) {
    if (obj[name] !== undefined) out[name] = expectNumber(obj[name], `${field}.${name}`, 0, 1);
  }
  if (obj.rmaxFinal !== undefined) out.rmaxFinal = expectNumber(obj.rmaxFinal, `${field}.rmaxFinal`, 1, 1e6);
  if (obj.dmaxFinal !== undefined) out.dmaxFinal = expectNumber(obj.dmaxFinal, `${field}.dmaxFinal`, 0, 1e6);
  const warmup = out.warmup ?? PAPER_DEFAULTS.warmup;
  for (const end of ['rmaxEnd', 'dmaxEnd'] as const) {
    const value = out[end] ?? PAPER_DEFAULTS[end];
    if (value < warmup) {
      throw new ConfigError(`${field}.${end}`, `${value} ends before warmup ${warmup}`, `set ${end} >= warmup (both are fractions of the run)`);
    }
  }
  return out;
}

function validatePaper(obj: Json, field: string): PaperSchedule {
  rejectUnknown(obj, field, ['kind', ...RAMP_FIELDS]);
  return { kind: 'paper', ...rampNumbers(obj, field) };
}

/** Missing ramp numbers take the paper's values, so `{"kind": "ramp", "shape": "cosine"}` is the paper with a cosine ease. */
function validateRamp(obj: Json, field: string): RampSchedule {
  rejectUnknown(obj, field, ['kind', 'shape', ...RAMP_FIELDS]);
  const shape = expectOneOf(obj.shape, `${field}.shape`, RAMP_SHAPES);
  return { kind: 'ramp', shape, ...PAPER_DEFAULTS, ...rampNumbers(obj, field) };
}

function validateFormula(obj: Json, field: string, runSteps: number | undefined): FormulaSchedule {
  rejectUnknown(obj, field, ['kind', 'rmax', 'dmax', 'rmin']);
  const spec: FormulaSchedule = {
    kind: 'formula',
    rmax: expectString(obj.rmax, `${field}.rmax`, 'give a formula over t, e.g. "1 + 2 * clamp((t - 0.1) / 0.7, 0, 1)"'),
    dmax: expectString(obj.dmax, `${field}.dmax`, 'give a formula over t, e.g. "5 * clamp((t - 0.1) / 0.4, 0, 1)"'),
  };
  if (obj.rmin !== undefined) spec.rmin = expectString(obj.rmin, `${field}.rmin`, 'give a formula or leave rmin out (defaults to 1 / rmax)');
  const rmax = compileFormula(spec.rmax, `${field}.rmax`);
  const dmax = compileFormula(spec.dmax, `${field}.dmax`);
  const rmin = spec.rmin === undefined ? undefined : compileFormula(spec.rmin, `${field}.rmin`);
  const byStep = usesRunLength(spec);
  if (byStep && runSteps === undefined) return spec;
  const totalSteps = runSteps ?? NOMINAL_TOTAL_STEPS;
  for (let i = 0; i < FORMULA_GRID_POINTS; i++) {
    const t = i / (FORMULA_GRID_POINTS - 1);
    const scope = { t, step: t * totalSteps, totalSteps };
    const at = byStep ? `at step ${scope.step} of ${totalSteps} (t = ${t}; a formula over step does not stretch with the run: write it over t to use it at any length)` : `at t = ${t}`;
    const r = evalFormula(rmax, scope);
    if (!Number.isFinite(r)) throw new ConfigError(`${field}.rmax`, `is ${r} ${at}`, 'make the formula a finite real number for every t in [0, 1]');
    if (r < 1) throw new ConfigError(`${field}.rmax`, `is ${r} < 1 ${at}`, 'keep rmax >= 1 (1 means plain BatchNorm)');
    const d = evalFormula(dmax, scope);
    if (!Number.isFinite(d)) throw new ConfigError(`${field}.dmax`, `is ${d} ${at}`, 'make the formula a finite real number for every t in [0, 1]');
    if (d < 0) throw new ConfigError(`${field}.dmax`, `is ${d} < 0 ${at}`, 'keep dmax >= 0 (0 means plain BatchNorm)');
    if (rmin) {
      const m = evalFormula(rmin, scope);
      if (!Number.isFinite(m) || m <= 0 || m > 1) throw new ConfigError(`${field}.rmin`, `is ${m} ${at}, outside (0, 1]`, 'keep rmin in (0, 1] or leave it out (defaults to 1 / rmax)');
    }
  }
  return spec;
}
