// Builds the JSON views of a study (summary for lists, full view for one study) from stored records.
import type { StudySummary, StudyView } from '../api_types.js';
import type { Direction, StudyRecord, TrialRecord } from '../types.js';

export const BASELINE_LABELS = ['batchnorm', 'paper'] as const;

/** Final-validation reruns are scored on the test set: they never count as search results. */
export function isFinalRun(t: TrialRecord): boolean {
  return (t.label ?? '').startsWith('final:');
}

/**
 * The best COMPLETE search trial; baselines are candidates too, since an honest study can find that plain
 * BatchNorm wins. Ties go to the earlier trial.
 */
export function bestTrial(trials: readonly TrialRecord[], direction: Direction): TrialRecord | undefined {
  let best: TrialRecord | undefined;
  for (const t of trials) {
    if (t.state !== 'COMPLETE' || isFinalRun(t) || t.value === null) continue;
    if (!best || (direction === 'maximize' ? t.value > best.value! : t.value < best.value!)) best = t;
  }
  return best;
}

export function baselineValues(trials: readonly TrialRecord[]): StudySummary['baselines'] {
  const value = (label: string) => trials.find((t) => t.label === label && t.state === 'COMPLETE')?.value ?? null;
  return { batchnorm: value('batchnorm'), paper: value('paper') };
}

export function summarize(study: StudyRecord, trials: readonly TrialRecord[]): StudySummary {
  const counts = { WAITING: 0, RUNNING: 0, COMPLETE: 0, PRUNED: 0, FAIL: 0 };
  for (const t of trials) if (!isFinalRun(t)) counts[t.state]++;
  const best = bestTrial(trials, study.direction);
  const budget = (study.config.budget ?? {}) as { trials?: number };
  return {
    id: study.id,
    name: study.name,
    state: study.state,
    direction: study.direction,
    executor: study.config.executor === 'external' ? 'external' : 'local',
    createdAt: study.createdAt,
    counts,
    budgetTrials: budget.trials ?? null,
    best: best ? { trialId: best.id, value: best.value! } : null,
    baselines: baselineValues(trials),
  };
}

export function studyView(study: StudyRecord, trials: TrialRecord[], totalSteps: number | null): StudyView {
  const objective = (study.config.objective ?? {}) as { metric?: string };
  return {
    ...summarize(study, trials),
    config: study.config,
    metric: objective.metric ?? 'valAccuracy',
    totalSteps,
    trials,
    finalValidation: (study.attrs.finalValidation as StudyView['finalValidation']) ?? null,
  };
}
