// The message format between the pool and a trial worker thread (shared by workers/ and test fixtures).
import type { MessagePort } from 'node:worker_threads';
import type { TrialJob, TrialProgress, TrialResult } from './types.js';

/** The task a worker's default export receives. */
export interface TrialTask {
  job: TrialJob;
  /** Loaded once in the main thread; SharedArrayBuffers inside are shared, not copied. */
  dataset: unknown;
  /** Progress flows out and stop requests flow in over this port (moved in transferList). */
  port: MessagePort;
  /**
   * Int32Array(1) view source set to 1 on a stop request. The port message is the protocol; this flag is
   * read synchronously so a trainer that does not yield to the event loop between steps still sees it.
   */
  stopFlag: SharedArrayBuffer;
}

/**
 * `unavailable`: the trial could not start because this machine cannot train (its backend did not initialise):
 * the trial is not at fault, so it goes back to the queue instead of failing, and the worker stops.
 */
export type WorkerMessage = { type: 'progress'; progress: TrialProgress } | { type: 'unavailable'; reason: string } | { type: 'done' };
export type ControlMessage = { type: 'stop' };

export type TrialHandler = (task: TrialTask) => Promise<TrialResult>;

/** Worker side: wires the port and the flag into a `shouldStop` and a progress sender. */
export function connectWorker(task: TrialTask): {
  shouldStop: () => boolean;
  progress: (p: TrialProgress) => void;
  /** Says this machine cannot train (sent before the error is thrown, which loses its code crossing the thread). */
  unavailable: (reason: string) => void;
  finish: () => void;
} {
  const flag = new Int32Array(task.stopFlag);
  let stopRequested = false;
  task.port.on('message', (m: ControlMessage) => {
    if (m?.type === 'stop') stopRequested = true;
  });
  return {
    shouldStop: () => stopRequested || Atomics.load(flag, 0) === 1,
    progress: (p) => task.port.postMessage({ type: 'progress', progress: p } satisfies WorkerMessage),
    unavailable: (reason) => task.port.postMessage({ type: 'unavailable', reason } satisfies WorkerMessage),
    finish: () => {
      // 'done' tells the pool every progress message was sent before the result, which travels on another channel.
      task.port.postMessage({ type: 'done' } satisfies WorkerMessage);
      task.port.close();
    },
  };
}
