// Turns a study's best trial into the versioned, self-contained schedule export (`renorm-tune export`, GET best-schedule).
import { ConflictError } from '../errors.js';
import { resolveSchedule, scheduleTable } from '../schedule/index.js';
import type { ExportedSchedule } from '../schedule/types.js';
import type { Direction, StudyRecord, TrialRecord } from './types.js';
import { studyTotalSteps } from './config.js';

/** Rows in the sampled table: every 1% of the run, enough to plot and to check an implementation against. */
export const EXPORT_TABLE_POINTS = 101;

/**
 * The export plus which trial won. The baselines compete with the tuned schedules: if plain BatchNorm or the
 * paper's schedule scored best, that *is* the best schedule the study found, and `winner` says so rather than
 * hiding it behind the best tuned trial.
 */
export type StudyExport = ExportedSchedule & {
  /** 'tuned' for an optimizer proposal, else the baseline's label. */
  winner: 'tuned' | 'batchnorm' | 'paper';
  /** The winning trial's label (null for tuned trials). */
  label: string | null;
};

export interface BuildExportOptions {
  packageVersion: string;
  /** ISO time to stamp; defaults to now (tests pass a fixed one). */
  exportedAt?: string;
}

/** Final-validation runs are scored on fresh seeds (and possibly the test set), so they are not candidates. */
function isCandidate(t: TrialRecord): boolean {
  return t.state === 'COMPLETE' && typeof t.value === 'number' && Number.isFinite(t.value) && !(t.label ?? '').startsWith('final:');
}

/** Best COMPLETE candidate in `direction`; ties go to the earlier trial, so the answer never flips on re-export. */
export function bestTrial(trials: readonly TrialRecord[], direction: Direction): TrialRecord | undefined {
  let best: TrialRecord | undefined;
  for (const t of trials) {
    if (!isCandidate(t)) continue;
    if (!best || (direction === 'maximize' ? t.value! > best.value! : t.value! < best.value!) || (t.value === best.value && t.number < best.number)) best = t;
  }
  return best;
}

/** The first COMPLETE baseline trial with this label, or null if it has not finished (or failed). */
export function baselineValue(trials: readonly TrialRecord[], label: 'batchnorm' | 'paper'): number | null {
  const done = trials.filter((t) => t.label === label && isCandidate(t)).sort((a, b) => a.number - b.number);
  return done[0]?.value ?? null;
}

export function buildExport(study: StudyRecord, trials: TrialRecord[], opts: BuildExportOptions): StudyExport {
  const best = bestTrial(trials, study.direction);
  if (!best) throw new ConflictError(`study '${study.name}' has no completed trial yet; export once one has finished`);
  // The scenario's run length is what the study trained with; a trial's own step count is the fallback for
  // scenarios that do not spell it out.
  const totalSteps = studyTotalSteps(study.config) ?? stepsOf(best);
  if (totalSteps === null) throw new ConflictError(`study '${study.name}': cannot tell the run length (scenario.steps is missing)`);
  const objective = (study.config.objective ?? {}) as { metric?: unknown };
  const label = best.label;
  const out: StudyExport = {
    format: 'renorm-tune/schedule',
    version: 1,
    schedule: best.schedule,
    totalSteps,
    resolved: resolveSchedule(best.schedule, totalSteps),
    table: scheduleTable(best.schedule, totalSteps, EXPORT_TABLE_POINTS),
    trialId: best.id,
    objective: { metric: typeof objective.metric === 'string' ? objective.metric : 'valAccuracy', direction: study.direction },
    value: best.value!,
    baselines: { batchnorm: baselineValue(trials, 'batchnorm'), paper: baselineValue(trials, 'paper') },
    winner: label === 'batchnorm' || label === 'paper' ? label : 'tuned',
    label,
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
