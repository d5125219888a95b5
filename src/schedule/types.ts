// The schedule contract: how rmax/dmax evolve, defined relative to run length (t = step / totalSteps in [0, 1]).

/** Clipping limits for one training step, as given to `BatchRenormalization.setClipping`. */
export interface Clipping {
  rmax: number;
  rmin: number;
  dmax: number;
}

export type RampShape = 'linear' | 'cosine' | 'exponential';

/** Plain BatchNorm for the whole run: rmax = 1, dmax = 0. */
export interface BatchNormSchedule {
  kind: 'batchnorm';
}

/**
 * Ioffe (2017): BatchNorm for a warm-up, then rmax 1 -> rmaxFinal and dmax 0 -> dmaxFinal, linearly,
 * each reaching its final value at its own fraction of the run. Defaults are the paper's 5k / 40k / 25k
 * steps of a 50k-step run: warmup 0.1, rmaxEnd 0.8, dmaxEnd 0.5, rmaxFinal 3, dmaxFinal 5.
 */
export interface PaperSchedule {
  kind: 'paper';
  warmup?: number;
  rmaxFinal?: number;
  rmaxEnd?: number;
  dmaxFinal?: number;
  dmaxEnd?: number;
}

/** Parametric ramp: BatchNorm until `warmup`, then a monotone ramp of `shape` to the final values at `rmaxEnd` / `dmaxEnd`. */
export interface RampSchedule {
  kind: 'ramp';
  shape: RampShape;
  warmup: number;
  rmaxFinal: number;
  rmaxEnd: number;
  dmaxFinal: number;
  dmaxEnd: number;
}

/** User formulas in mathjs syntax over `t` (fraction of training done), `step`, `totalSteps` and `clamp`. */
export interface FormulaSchedule {
  kind: 'formula';
  rmax: string;
  dmax: string;
  rmin?: string;
}

export type ScheduleSpec = BatchNormSchedule | PaperSchedule | RampSchedule | FormulaSchedule;

/**
 * A row of a schedule's table (an export's, an asked trial's): the limits at `step`. Rows include every
 * breakpoint, so `step` is fractional where a breakpoint falls between two whole steps.
 */
export interface ScheduleTableRow {
  step: number;
  rmax: number;
  rmin: number;
  dmax: number;
}

/** Anything handed to a trainer with a schedule and the run length its table was resolved for (an asked trial). */
export interface ScheduledTrial {
  schedule: ScheduleSpec;
  totalSteps?: number | null;
}

/**
 * The versioned export of a tuned schedule (`GET /api/studies/:id/best-schedule`, `renorm-tune export`).
 * `scheduleAt(exported, step, yourTotalSteps)` stretches it to your run (its own `totalSteps` when left out). Documented by `configs/schemas/schedule-export.schema.json`.
 */
export interface ExportedSchedule {
  format: 'renorm-tune/schedule';
  version: 1;
  /** The schedule in relative form (t in [0, 1]). */
  schedule: ScheduleSpec;
  /** The run length the study trained with; `resolved` and `table` are in steps of this run. */
  totalSteps: number;
  /** The schedule's breakpoints in absolute steps (e.g. warmupSteps, rmaxEndStep, dmaxEndStep). */
  resolved: Record<string, number | string>;
  table: ScheduleTableRow[];
  renormMomentum?: number;
  trialId: number;
  objective: { metric: string; direction: 'minimize' | 'maximize' };
  /** The search value; null for a baseline recommended by final validation whose search run failed. */
  value: number | null;
  baselines: { batchnorm: number | null; paper: number | null };
  provenance: {
    study: string;
    studyId: string;
    scenario: Record<string, unknown>;
    seed: number;
    backend: string | null;
    /** Where that backend computed ('GPU' or 'CPU'), when the trial's trainer said. */
    device?: 'GPU' | 'CPU';
    packageVersion: string;
    exportedAt: string;
  };
}
