// Turns a study's recommended schedule into the versioned, self-contained export (`renorm-tune export`, GET best-schedule).
import { ConflictError } from '../errors.js';
import { resolveSchedule, scheduleTable } from '../schedule/index.js';
import type { ExportedSchedule, ScheduleSpec } from '../schedule/types.js';
import { baselineValues } from '../shared/best.js';
import type { Comparison } from '../shared/evidence.js';
import type { StudyRecord, TrialRecord } from './types.js';
import { metricOf, studyTotalSteps } from './config.js';
import type { RecommendationView } from './api_types.js';
import { decideWinner, type StudyRecommendation, type Winner } from './winner.js';

/** Rows in the sampled table: every 1% of the run, enough to plot and to check an implementation against. */
export const EXPORT_TABLE_POINTS = 101;

/**
 * The export plus the study's verdict. The recommended schedule is the tuned one only when the evidence says it
 * is better than the baselines (paired final validation); if a baseline was not beaten, that baseline's schedule
 * is recommended and `verdict` says why; without baselines nothing is declared (`winner` null).
 */
export type StudyExport = ExportedSchedule & {
  /** 'tuned', the baseline recommended instead, or null when no baseline was measured. */
  winner: Winner;
  /** The outcome in words, e.g. "the tuned schedule (#12) is better than BatchNorm: +8.10 pts (95% CI ...)". */
  verdict: string;
  /** What the verdict rests on: paired final validation, the search's single runs, or nothing (no baseline). */
  evidence: StudyRecommendation['evidence'];
  /** The paired comparisons at the study's run length, when final validation ran. */
  comparisons?: Comparison[];
  /** The tuned schedule, when the recommendation is something else. */
  tuned?: { trialId: number; trialNumber: number; value: number | null; schedule: ScheduleSpec; renormMomentum?: number };
  /** The optimizer's recommendation: its prediction at the tuned trial it believes best, next to what was measured there. */
  model?: { trialNumber: number | null; predicted: number; sd: number | null; measured: number | null };
  /** The recommended trial's role and visible number. */
  role: string;
  trialNumber: number;
};

export interface BuildExportOptions {
  packageVersion: string;
  /** ISO time to stamp; defaults to now (tests pass a fixed one). */
  exportedAt?: string;
  /**
   * The optimizer's recommendation (the best tuned trial by posterior mean). While no race or final validation
   * has decided, it is the tuned pick (rather than the single best noisy value), and the export shows its
   * prediction next to what was measured.
   */
  model?: RecommendationView | null;
}

export function buildExport(study: StudyRecord, trials: TrialRecord[], opts: BuildExportOptions): StudyExport {
  const rec = decideWinner(study, trials, opts.model?.trialId ?? null);
  if (!rec) throw new ConflictError(`study '${study.name}' has no completed trial yet; export once one has finished`);
  const best = rec.trial;
  // The scenario's run length is what the study trained with; a trial's own step count is the fallback for
  // scenarios that do not spell it out.
  const totalSteps = studyTotalSteps(study.config) ?? stepsOf(best) ?? askedSteps(study);
  if (totalSteps === null) throw new ConflictError(`study '${study.name}': cannot tell the run length (give the study a totalSteps, or a scenario with steps, or ask with totalSteps)`);
  const out: StudyExport = {
    format: 'renorm-tune/schedule',
    version: 1,
    schedule: best.schedule,
    totalSteps,
    resolved: resolveSchedule(best.schedule, totalSteps),
    table: scheduleTable(best.schedule, totalSteps, { points: EXPORT_TABLE_POINTS }),
    trialId: best.id,
    objective: { metric: metricOf(study.config), direction: study.direction },
    value: best.value,
    baselines: baselineValues(trials),
    winner: rec.winner,
    verdict: rec.verdict,
    evidence: rec.evidence,
    role: best.role,
    trialNumber: best.number,
    provenance: {
      study: study.name,
      studyId: study.id,
      scenario: (study.config.scenario ?? {}) as Record<string, unknown>,
      seed: best.seed,
      backend: backendOf(best, study),
      ...deviceOf(best),
      packageVersion: opts.packageVersion,
      exportedAt: opts.exportedAt ?? new Date().toISOString(),
    },
  };
  if (rec.comparisons.length) out.comparisons = rec.comparisons;
  if (rec.tuned && rec.tuned.id !== best.id) {
    out.tuned = { trialId: rec.tuned.id, trialNumber: rec.tuned.number, value: rec.tuned.value, schedule: rec.tuned.schedule, ...momentumOf(rec.tuned) };
  }
  Object.assign(out, momentumOf(best));
  if (opts.model) out.model = { trialNumber: opts.model.trialNumber, predicted: opts.model.mean, sd: opts.model.sd, measured: opts.model.observed };
  return out;
}

/** A trial's renorm momentum, where it set one: the schedule alone does not reproduce a trial that tuned it. */
function momentumOf(t: TrialRecord): { renormMomentum?: number } {
  const m = t.params.renormMomentum;
  return typeof m === 'number' ? { renormMomentum: m } : {};
}

/** The study attribute that keeps the run length an external study without one of its own was last asked with. */
export const ASKED_TOTAL_STEPS = 'askedTotalSteps';

/** An external study without a run length of its own: the one its trainers last asked with. */
function askedSteps(study: StudyRecord): number | null {
  const steps = study.attrs[ASKED_TOTAL_STEPS];
  return typeof steps === 'number' && Number.isInteger(steps) && steps > 0 ? steps : null;
}

function stepsOf(t: TrialRecord): number | null {
  const steps = t.metrics?.steps;
  return typeof steps === 'number' && Number.isInteger(steps) && steps > 0 ? steps : null;
}

/** Where the best trial's backend computed, as its trainer reported (trials trained before it did say nothing). */
function deviceOf(t: TrialRecord): { device?: 'GPU' | 'CPU' } {
  const device = t.metrics?.device;
  return device === 'GPU' || device === 'CPU' ? { device } : {};
}

/** The backend that actually ran (reported by the trainer) beats the one the config asked for ('auto'). */
function backendOf(t: TrialRecord, study: StudyRecord): string | null {
  const ran = t.metrics?.backend;
  if (typeof ran === 'string') return ran;
  const asked = study.config.backend;
  return typeof asked === 'string' ? asked : null;
}
