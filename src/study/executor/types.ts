// The executor contract: run one training job somewhere, stream its progress, and say how it ended.
import type { TrainProgress, TrainRequest, TrainResult } from '../../train/types.js';

/** What one training run needs: the trainer's request without what the executor adds (shared dataset, callbacks). */
export interface TrialJob extends Pick<TrainRequest, 'schedule' | 'renormMomentum' | 'seed' | 'backend' | 'evaluateOn'> {
  /** For messages only: which trial this run belongs to. */
  trialId: number;
  /** The validated scenario as plain JSON: it crosses a thread (or, later, a queue) boundary. */
  scenario: Record<string, unknown>;
}

/**
 * One progress report, exactly the trainer's. The index signature lets the runner read the objective's metric by
 * name (a string in the study config); it goes once that name is typed as a key of TrainProgress.
 */
export type TrialProgress = TrainProgress & { readonly [metric: string]: unknown };

/** The trainer's result without its curve, which the worker already streamed as progress reports. */
export type TrialResult = Omit<TrainResult, 'curve'> & { readonly [metric: string]: unknown };

/**
 * How a run ended. `stopped` = a stop request (prune) was honoured; `failed` = the run threw, diverged,
 * timed out, ran out of memory or its worker died (`unavailable`: it never started, because this machine cannot
 * train: its backend did not initialise); `cancelled` = the caller's signal aborted it (Ctrl-C), so the trial goes
 * back to the queue rather than failing.
 */
export type TrialOutcome =
  | { kind: 'ok'; result: TrialResult }
  | { kind: 'stopped'; result: TrialResult }
  | { kind: 'failed'; reason: string; result?: TrialResult; unavailable?: true }
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
