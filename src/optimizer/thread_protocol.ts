// Messages between ThreadedOptimizer (main thread) and its worker (thread_worker.ts): one ordered stream each way.
import type { GpSlice, Importance, OptimizerKind, OptimizerOptions, Params, Recommendation } from './types.js';

/** State changes: applied in order, never answered (the main side has already validated them). */
export type Update =
  | { op: 'observe'; params: Params; value: number | null }
  | { op: 'pending'; id: string; params: Params }
  | { op: 'tell'; id: string; value: number | null };

/** Questions: each answered once, with the same `call` number. */
export type Query =
  | { op: 'suggest'; call: number; count: number }
  | { op: 'slices'; call: number; center?: Params; points?: number }
  | { op: 'recommend'; call: number; among?: Params[] }
  | { op: 'importance'; call: number };

export type ToWorker = Update | Query;

export type Answer =
  | { call: number; ok: true; result: Params[] | GpSlice[] | Recommendation | Importance | null }
  | { call: number; ok: false; error: { name: string; message: string; code?: string } };

/** What the worker is started with (`workerData`). */
export interface WorkerInit {
  kind: OptimizerKind;
  options: OptimizerOptions;
}
