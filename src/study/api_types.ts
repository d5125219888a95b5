// The contract between the HTTP layer and the study service: the server only ever calls a `StudyApi`.
import type { ScheduleSpec, ExportedSchedule } from '../schedule/types.js';
import type { GpSlice } from '../optimizer/types.js';
import type { Direction, Params, StudyRecord, StudyState, TrialRecord } from './types.js';

export interface AskedTrial {
  id: number;
  params: Params;
  schedule: ScheduleSpec;
}

export interface StudySummary {
  id: string;
  name: string;
  state: StudyState;
  direction: Direction;
  executor: 'local' | 'external';
  createdAt: string;
  counts: Record<'WAITING' | 'RUNNING' | 'COMPLETE' | 'PRUNED' | 'FAIL', number>;
  /** Trials budget (baselines included), or null when only a time budget is set. */
  budgetTrials: number | null;
  best: { trialId: number; value: number } | null;
  baselines: { batchnorm: number | null; paper: number | null };
}

/** Mean and 95% confidence interval of a retrained schedule's test metric across fresh seeds. */
export interface FinalScore {
  values: number[];
  mean: number;
  ci: [number, number];
}

/** The body of `GET /api/studies/:id` and of `renorm-tune show --json`. */
export interface StudyView extends StudySummary {
  config: Record<string, unknown>;
  metric: string;
  totalSteps: number | null;
  trials: TrialRecord[];
  finalValidation: { batchnorm?: FinalScore; paper?: FinalScore; best?: FinalScore; trialId?: number } | null;
}

/** The GP's beliefs along each parameter through the best point (for the dashboard). */
export interface GpView {
  available: boolean;
  reason?: string;
  center?: Params;
  slices?: GpSlice[];
}

export interface StudyEvent {
  type: 'trial' | 'study';
  studyId: string;
  trial?: TrialRecord;
  state?: StudyState;
}

/** Everything the REST API does. Methods throw RenormTuneError subclasses (ConfigError 400, NotFoundError 404, ConflictError 409). */
export interface StudyApi {
  createStudy(config: unknown): StudyRecord;
  listStudies(): StudySummary[];
  getStudyView(studyId: string): StudyView;
  ask(studyId: string, count: number): Promise<AskedTrial[]>;
  report(studyId: string, trialId: number, step: number, value: number, metrics?: Record<string, unknown>): { prune: boolean };
  tell(studyId: string, trialId: number, outcome: { value: number } | { failed: string }): TrialRecord;
  bestSchedule(studyId: string): ExportedSchedule;
  gpView(studyId: string): Promise<GpView>;
  subscribe(studyId: string, listener: (event: StudyEvent) => void): () => void;
}
