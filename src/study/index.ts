// Public names of the study package, re-exported from the package root.
export type {
  TrialState, StudyState, Direction, ParamValue, Params, IntermediateValue, TrialRecord, StudyRecord, NewTrial, Storage, TrialRole,
  Lease, LeaseRequest, FinishResult, CreateGuard, PeerQuery,
} from './types.js';
export type {
  AskedTrial, GrantedLease, StudySummary, FinalScore, FinalValidationReport, StoredFinalValidation, StudyView, GpView, StudyEvent, StudyApi, TrialSummary, TrialRef,
} from './api_types.js';
export { LeaseLostError, BudgetExhaustedError, StaleSnapshotError, StudyStoppedError } from './errors.js';
export { trialSeed, repeatSeed, finalSeed, raceSeed } from './seeds.js';
export { bestTrial, baselineValues } from '../shared/best.js';

// storage, config, export
export {
  MemoryStorage, SqliteStorage, openStorage, parseStorageRef, storageRefFrom, DB_ENV, DEFAULT_DB, StorageVersionError, STORAGE_SCHEMA_VERSION,
  type SqliteOptions,
} from './storage/index.js';
export {
  validateStudyConfig, loadStudyConfig, studyTotalSteps, objectiveBounds, localScenario, OBJECTIVE_METRICS, METRIC_BOUNDS, METRIC_NAME, STUDY_BACKENDS,
  type StudyConfig, type Bounds,
} from './config.js';
export { enqueuedTrial } from './enqueue.js';
export { scheduleParams } from './schedule_point.js';
export { warmStartTrials, type WarmStartReport } from './warm_start.js';
export { buildExport, EXPORT_TABLE_POINTS, type StudyExport, type BuildExportOptions } from './export.js';

// service, pruners, executors, runner
export { StudyService, configOf, type ServiceDeps } from './service.js';
export { createStudyService, defaultServiceDeps, studySpace } from './service/defaults.js';
export type { SuggestingOptimizer } from './service/optimizer_sync.js';
export { defaultScheduleSpace, mergeScheduleSpace, paramsToSchedule, scheduleParamNames } from './schedule_space.js';
export { createPruner, MedianPruner, AshaPruner, NopPruner, type Pruner, type PrunerSpec, type MedianPrunerOptions, type AshaPrunerOptions } from './pruners/index.js';
export {
  PiscinaExecutor, DEFAULT_TRIAL_WORKER, connectWorker,
  type Executor, type RunningTrial, type StartOptions, type TrialJob, type TrialOutcome, type TrialProgress, type TrialResult,
  type TrialTask, type TrialHandler, type WorkerMessage, type PiscinaExecutorOptions,
} from './executor/index.js';
export { runStudy, type RunStudyOptions, type RunStudyResult, type RunnerEvent } from './runner.js';
export { FINAL_METRIC, finalTrials, parseFinalRole } from './final.js';
export { summarizeFinal } from './final_summary.js';
export { racePicker, type FinalPicker, type TunedPick, type PickState } from './pick.js';
export { decideWinner, type StudyRecommendation, type Winner } from './winner.js';
export { meanInterval, tInterval, bcaInterval, pairedDifference, studentTQuantile, metricRange } from './stats/index.js';
export { readFinalValidation, comparisonSentence, verdictSummary, type Verdict, type Comparison, type ArmScore, type FinalReading } from '../shared/evidence.js';
