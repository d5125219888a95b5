// Executors of the study package: where trials actually train.
export type { Executor, RunningTrial, StartOptions, TrialJob, TrialOutcome, TrialProgress, TrialResult } from './types.js';
export type { TrialTask, TrialHandler, WorkerMessage } from './protocol.js';
export { connectWorker } from './protocol.js';
export { PiscinaExecutor, DEFAULT_TRIAL_WORKER, type PiscinaExecutorOptions } from './piscina.js';
export { ProcessExecutor, type ProcessExecutorOptions } from './process.js';
