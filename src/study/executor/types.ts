// The executor contract: run one training job somewhere, stream its progress, and say how it ended.
import type { ScheduleSpec } from '../../schedule/types.js';

/** What one training run needs; the executor adds the shared dataset itself. */
export interface TrialJob {
  /** For messages only: which trial this run belongs to. */
  trialId: number;
  scenario: Record<string, unknown>;
  schedule: ScheduleSpec;
  renormMomentum?: number;
  seed: number;
  backend?: string;
  evaluateOn?: 'validation' | 'test';
}

/** One progress report from the trainer (mirrors the trainer's TrainProgress; extra fields pass through). */
export interface TrialProgress {
  step: number;
  totalSteps: number;
  loss: number;
  valAccuracy?: number;
  valAccuracyTrainMode?: number;
  rmax?: number;
  rmin?: number;
  dmax?: number;
  clip?: { layer: string; r: number; d: number }[];
  [key: string]: unknown;
}

/** The trainer's final result (mirrors TrainResult; kept loose so the executor does not depend on the trainer). */
export interface TrialResult {
  status: 'ok' | 'diverged' | 'stopped';
  failureReason?: string;
  valAccuracy: number;
  valAccuracyTrainMode?: number;
  testAccuracy?: number;
  loss: number;
  steps: number;
  backend?: string;
  imagesPerSecond?: number;
  elapsedMs?: number;
  [key: string]: unknown;
}

/**
 * How a run ended. `stopped` = a stop request (prune) was honoured; `failed` = the run threw, diverged,
 * timed out, ran out of memory or its worker died; `cancelled` = the caller's signal aborted it (Ctrl-C),
 * so the trial goes back to the queue rather than failing.
 */
export type TrialOutcome =
  | { kind: 'ok'; result: TrialResult }
  | { kind: 'stopped'; result: TrialResult }
  | { kind: 'failed'; reason: string; result?: TrialResult }
  | { kind: 'cancelled' };

export interface StartOptions {
  onProgress?: (progress: TrialProgress) => void;
  /** Aborting cancels the run (outcome `cancelled`). */
  signal?: AbortSignal;
  /** Wall-clock limit; past it the run is killed and `failed`. */
  timeoutMs?: number;
}

export interface RunningTrial {
  /** Ask the run to stop at its next step and return what it has (used for pruning). */
  stop(): void;
  /** Never rejects: every way a run can end is a TrialOutcome. */
  readonly outcome: Promise<TrialOutcome>;
}

/** Anything that can run trials: the local piscina pool now, a distributed queue later. */
export interface Executor {
  /** How many runs make progress at once; more are queued. */
  readonly slots: number;
  start(job: TrialJob, opts?: StartOptions): RunningTrial;
  /** Cancels queued and running work and releases the workers. */
  close(): Promise<void>;
}
