// Builds the JSON views of a study (summary for lists, full view for one study) from stored records.
import { tally, type TrialTally } from '../../shared/summary.js';
import type { StudyResults, StudySummary, StudyView, TrialSummary } from '../api_types.js';
import { metricOf } from '../config.js';
import type { StudyRecord, TrialRecord } from '../types.js';
import type { WarmStartReport } from '../warm_start.js';
import { stopRequestedAt } from '../stop_request.js';

export function summarize(study: StudyRecord, trials: readonly TrialRecord[]): StudySummary {
  return summaryOf(study, tally(trials, study.direction));
}

/** The summary from a tally the store computed (Storage.trialTallies); a study with no tally has no trials. */
export function summaryOf(study: StudyRecord, counted: TrialTally = tally([], study.direction)): StudySummary {
  const { counts, best, baselines } = counted;
  const budget = (study.config.budget ?? {}) as { trials?: number };
  return {
    id: study.id,
    name: study.name,
    state: study.state,
    direction: study.direction,
    metric: metricOf(study.config),
    executor: study.config.executor === 'external' ? 'external' : 'local',
    createdAt: study.createdAt,
    counts,
    budgetTrials: budget.trials ?? null,
    best,
    baselines,
    stopRequestedAt: stopRequestedAt(study),
  };
}

export function studyView(study: StudyRecord, trials: TrialRecord[], totalSteps: number | null): StudyView {
  return {
    ...summarize(study, trials),
    config: study.config,
    totalSteps,
    searchSeconds: study.searchSeconds,
    trials,
    ...studyResults(study),
  };
}

/** The view's parts read from the study's attrs: what a `study` event carries when they change. */
export function studyResults(study: StudyRecord): StudyResults {
  return {
    finalValidation: (study.attrs.finalValidation as StudyView['finalValidation']) ?? null,
    warmStart: (study.attrs.warmStart as WarmStartReport | undefined) ?? null,
  };
}

/** A trial as a state-change event carries it: everything but the curve. */
export function trialSummary(t: TrialRecord): TrialSummary {
  const { intermediate: _curve, ...rest } = t;
  return rest;
}
