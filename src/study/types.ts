// The storage contract of a study: records and the one interface every backend (SQLite now, PostgreSQL later) implements.
import type { Direction, Params } from '../optimizer/types.js';
import type { ScheduleSpec } from '../schedule/types.js';

export type { Direction, ParamValue, Params } from '../optimizer/types.js';
export type TrialState = 'WAITING' | 'RUNNING' | 'COMPLETE' | 'PRUNED' | 'FAIL';
export type StudyState = 'CREATED' | 'RUNNING' | 'STOPPED' | 'COMPLETE';

/** One progress report of a trial: `value` is the objective metric at `step`; `metrics` holds the rest (loss, train-mode accuracy, clip fractions). */
export interface IntermediateValue {
  step: number;
  value: number;
  metrics?: Record<string, unknown>;
}

export interface TrialRecord {
  id: number;
  studyId: string;
  /** 0-based order of creation within the study. */
  number: number;
  state: TrialState;
  params: Params;
  schedule: ScheduleSpec;
  /** `batchnorm` / `paper` for the automatic baselines, `final:<which>` for final-validation runs, else null. */
  label: string | null;
  value: number | null;
  failureReason: string | null;
  seed: number;
  /** Final metrics returned by the trainer (valAccuracy, testAccuracy, backend, steps, ...). */
  metrics: Record<string, unknown> | null;
  intermediate: IntermediateValue[];
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface StudyRecord {
  id: string;
  name: string;
  direction: Direction;
  state: StudyState;
  /** The validated study config, stored verbatim. */
  config: Record<string, unknown>;
  /** Saved optimizer state or other per-study JSON (final validation report, ...). */
  attrs: Record<string, unknown>;
  createdAt: string;
}

/** Fields a new trial is created with; the storage assigns id, number and timestamps. */
export interface NewTrial {
  state: 'WAITING' | 'RUNNING';
  params: Params;
  schedule: ScheduleSpec;
  label?: string | null;
  seed: number;
}

/**
 * Every method commits before it returns: callers act only on state that is durable.
 * State transitions are checked: finishing a trial that is already finished throws ConflictError.
 */
export interface Storage {
  createStudy(study: { name: string; direction: Direction; config: Record<string, unknown> }): StudyRecord;
  getStudy(id: string): StudyRecord | undefined;
  findStudyByName(name: string): StudyRecord | undefined;
  listStudies(): StudyRecord[];
  setStudyState(id: string, state: StudyState): void;
  setStudyAttr(id: string, key: string, value: unknown): void;

  createTrials(studyId: string, trials: NewTrial[]): TrialRecord[];
  getTrial(studyId: string, trialId: number): TrialRecord | undefined;
  listTrials(studyId: string, opts?: { states?: TrialState[]; withIntermediate?: boolean }): TrialRecord[];
  /** WAITING -> RUNNING, atomically; returns false if another caller took it first. */
  startTrial(studyId: string, trialId: number): boolean;
  addIntermediate(studyId: string, trialId: number, value: IntermediateValue): void;
  /** RUNNING/WAITING -> COMPLETE | PRUNED | FAIL. Throws ConflictError if already finished. */
  finishTrial(
    studyId: string,
    trialId: number,
    result: { state: 'COMPLETE' | 'PRUNED' | 'FAIL'; value?: number | null; failureReason?: string | null; metrics?: Record<string, unknown> | null },
  ): TrialRecord;
  /** After a crash: RUNNING -> WAITING for every trial of the study; returns how many. */
  requeueRunning(studyId: string): number;
  /**
   * A cheap watermark of the study's stored state: every change above (study state, attrs, trials, intermediate
   * values), by this connection or another process's, moves it. Only equality is meaningful. Throws NotFoundError.
   */
  changeStamp(studyId: string): number;
  close(): void;
}
