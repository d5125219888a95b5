// Turns a study's best trial into the versioned, self-contained schedule export (`renorm-tune export`, GET best-schedule).
import { ConflictError } from '../errors.js';
import { resolveSchedule, scheduleTable } from '../schedule/index.js';
import type { ExportedSchedule } from '../schedule/types.js';
import { baselineValues, bestTrial } from '../shared/best.js';
import { baselineOf } from '../shared/roles.js';
import type { StudyRecord, TrialRecord } from './types.js';
import { studyTotalSteps } from './config.js';

/** Rows in the sampled table: every 1% of the run, enough to plot and to check an implementation against. */
export const EXPORT_TABLE_POINTS = 101;

/**
 * The export plus which trial won. The baselines compete with the tuned schedules: if plain BatchNorm or the
 * paper's schedule scored best, that *is* the best schedule the study found, and `winner` says so rather than
 * hiding it behind the best tuned trial.
 */
export type StudyExport = ExportedSchedule & {
  /** 'tuned' for an optimizer proposal (or a schedule enqueued by hand), else the baseline that won. */
  winner: 'tuned' | 'batchnorm' | 'paper';
  /** The winning trial's role and visible number. */
  role: string;
  trialNumber: number;
};

export interface BuildExportOptions {
  packageVersion: string;
  /** ISO time to stamp; defaults to now (tests pass a fixed one). */
  exportedAt?: string;
}

export function buildExport(study: StudyRecord, trials: TrialRecord[], opts: BuildExportOptions): StudyExport {
  const best = bestTrial(trials, study.direction);
  if (!best) throw new ConflictError(`study '${study.name}' has no completed trial yet; export once one has finished`);
  // The scenario's run length is what the study trained with; a trial's own step count is the fallback for
  // scenarios that do not spell it out.
  const totalSteps = studyTotalSteps(study.config) ?? stepsOf(best);
  if (totalSteps === null) throw new ConflictError(`study '${study.name}': cannot tell the run length (give the study a totalSteps, or a scenario with steps)`);
  const objective = (study.config.objective ?? {}) as { metric?: unknown };
  const baseline = baselineOf(best.role);
  const out: StudyExport = {
    format: 'renorm-tune/schedule',
    version: 1,
    schedule: best.schedule,
    totalSteps,
    resolved: resolveSchedule(best.schedule, totalSteps),
    table: scheduleTable(best.schedule, totalSteps, { points: EXPORT_TABLE_POINTS }),
    trialId: best.id,
    objective: { metric: typeof objective.metric === 'string' ? objective.metric : 'valAccuracy', direction: study.direction },
    value: best.value!,
    baselines: baselineValues(trials),
    winner: baseline ?? 'tuned',
    role: best.role,
    trialNumber: best.number,
    provenance: {
      study: study.name,
      studyId: study.id,
      scenario: (study.config.scenario ?? {}) as Record<string, unknown>,
      seed: best.seed,
      backend: backendOf(best, study),
      packageVersion: opts.packageVersion,
      exportedAt: opts.exportedAt ?? new Date().toISOString(),
    },
  };
  const momentum = best.params.renormMomentum;
  if (typeof momentum === 'number') out.renormMomentum = momentum;
  return out;
}

function stepsOf(t: TrialRecord): number | null {
  const steps = t.metrics?.steps;
  return typeof steps === 'number' && Number.isInteger(steps) && steps > 0 ? steps : null;
}

/** The backend that actually ran (reported by the trainer) beats the one the config asked for ('auto'). */
function backendOf(t: TrialRecord, study: StudyRecord): string | null {
  const ran = t.metrics?.backend;
  if (typeof ran === 'string') return ran;
  const asked = study.config.backend;
  return typeof asked === 'string' ? asked : null;
}
