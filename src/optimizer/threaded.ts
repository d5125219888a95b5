// Runs an optimizer in a worker thread behind the same Optimizer interface, so model fitting and acquisition never block the event loop.
//
// The main side keeps the record: a TrialLedger that validates every call (so bad input fails here, synchronously
// where the interface is synchronous, with the usual ConfigError / NotFoundError / ConflictError) and assigns
// every id. The worker holds the real optimizer and receives the same changes as one ordered message stream, so
// it always answers a question about the state as of when the question was sent. Asks are serialized: the next
// one is sent only after the previous one's suggestions are registered as pending on both sides.
// A worker that dies rejects the calls in flight with an OptimizerWorkerError (retryable, 503) and is replaced
// at once by a new one rebuilt from the record (observations in order, then pending trials under their ids).
import { fileURLToPath } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { RenormTuneError } from '../errors.js';
import { expectInt } from '../config/fields.js';
import { MAX_BATCH, resolveOptions } from './base.js';
import { TrialLedger } from './ledger.js';
import type { EncodedSpace } from './space.js';
import type { Answer, Query, ToWorker, Update, WorkerInit } from './thread_protocol.js';
import type { GpSlice, Importance, Optimizer, OptimizerKind, OptimizerOptions, Params, Recommendation, Suggestion } from './types.js';

/** The compiled worker entry, beside this module in dist/src/optimizer/. */
export const DEFAULT_OPTIMIZER_WORKER = fileURLToPath(new URL('./thread_worker.js', import.meta.url));

/** The worker died or the optimizer was closed: the call did not complete. Retry after a crash; a closed optimizer stays closed. */
export class OptimizerWorkerError extends RenormTuneError {
  constructor(code: 'OPTIMIZER_WORKER_CRASHED' | 'OPTIMIZER_CLOSED', message: string) {
    super(code, message, 503);
  }
}

export interface ThreadedOptimizerOptions {
  /** Worker entry file (default DEFAULT_OPTIMIZER_WORKER); tests pass a fixture that wraps it. */
  filename?: string;
  /** Limits of the worker's heap, as for any worker_threads Worker. */
  resourceLimits?: ResourceLimits;
}

type QueryBody = Query extends infer Q ? (Q extends Query ? Omit<Q, 'call'> : never) : never;

interface InFlight {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

export class ThreadedOptimizer implements Optimizer {
  readonly name: OptimizerKind;
  /** Workers started after a crash (statistics; 0 while the first one lives). */
  restarts = 0;
  private readonly ledger: TrialLedger;
  private readonly space: EncodedSpace;
  private readonly init: WorkerInit;
  private readonly filename: string;
  private readonly resourceLimits: ResourceLimits | undefined;
  private worker: Worker | null = null;
  private readonly inFlight = new Map<number, InFlight>();
  private nextCall = 0;
  private closed = false;
  private askChain: Promise<unknown> = Promise.resolve();

  constructor(kind: OptimizerKind, options: OptimizerOptions, host: ThreadedOptimizerOptions = {}) {
    // Validated here, so a bad option fails the constructor, as it does for the in-process optimizers.
    this.space = resolveOptions(options).space;
    this.name = kind;
    this.ledger = new TrialLedger(this.space);
    this.init = { kind, options };
    this.filename = host.filename ?? DEFAULT_OPTIMIZER_WORKER;
    this.resourceLimits = host.resourceLimits;
    this.worker = this.spawn();
  }

  private spawn(): Worker {
    const w = new Worker(this.filename, {
      workerData: { renormTuneOptimizer: this.init },
      ...(this.resourceLimits ? { resourceLimits: this.resourceLimits } : {}),
    });
    w.on('message', (a: Answer) => this.settle(a));
    w.on('error', (err) => this.crashed(w, err));
    w.on('exit', (code) => this.crashed(w, new Error(`exit code ${code}`)));
    // An idle worker must not keep the process alive; one with calls in flight must (see refresh()).
    w.unref();
    for (const o of this.ledger.observations) w.postMessage({ op: 'observe', params: o.params, value: o.value } satisfies Update);
    for (const [id, p] of this.ledger.pending) w.postMessage({ op: 'pending', id, params: p.params } satisfies Update);
    return w;
  }

  private refresh(): void {
    if (!this.worker) return;
    if (this.inFlight.size > 0) this.worker.ref();
    else this.worker.unref();
  }

  private crashed(w: Worker, err: Error): void {
    if (w !== this.worker) return;
    this.worker = null;
    if (this.closed) return;
    const e = new OptimizerWorkerError(
      'OPTIMIZER_WORKER_CRASHED',
      `the ${this.name} optimizer's worker thread died (${err.message}); the call did not complete. A new worker was started from the ` +
        `${this.ledger.observations.length} observations and ${this.ledger.pending.size} pending trials recorded on the main thread: retry the call`,
    );
    this.failAll(e);
    this.restarts++;
    this.worker = this.spawn();
  }

  private failAll(e: Error): void {
    const calls = [...this.inFlight.values()];
    this.inFlight.clear();
    for (const c of calls) c.reject(e);
  }

  private settle(a: Answer): void {
    const c = this.inFlight.get(a.call);
    if (!c) return;
    this.inFlight.delete(a.call);
    this.refresh();
    if (a.ok) c.resolve(a.result);
    else c.reject(Object.assign(new Error(`optimizer worker: ${a.error.message}`), { name: a.error.name, ...(a.error.code ? { code: a.error.code } : {}) }));
  }

  private checkOpen(): void {
    if (this.closed) throw new OptimizerWorkerError('OPTIMIZER_CLOSED', `the ${this.name} optimizer was closed; create a new one`);
  }

  private update(msg: Update): void {
    this.worker?.postMessage(msg satisfies ToWorker);
  }

  private query<T>(body: QueryBody): Promise<T> {
    this.checkOpen();
    const call = this.nextCall++;
    return new Promise<T>((resolve, reject) => {
      this.inFlight.set(call, { resolve: resolve as (v: unknown) => void, reject });
      this.refresh();
      this.worker!.postMessage({ ...body, call } as ToWorker);
    });
  }

  async ask(count = 1): Promise<Suggestion[]> {
    this.checkOpen();
    expectInt(count, 'count', 1, MAX_BATCH);
    const run = this.askChain.then(async () => {
      const proposals = await this.query<Params[]>({ op: 'suggest', count });
      this.checkOpen();
      return proposals.map((params) => {
        const id = this.ledger.addPending(params, false);
        this.update({ op: 'pending', id, params });
        return { id, params };
      });
    });
    // A failed ask must not poison the ones queued after it.
    this.askChain = run.catch(() => undefined);
    return await run;
  }

  async tell(id: string, value: number | null): Promise<void> {
    this.checkOpen();
    this.ledger.tell(id, value);
    this.update({ op: 'tell', id, value });
  }

  async addObservation(params: Params, value: number | null): Promise<void> {
    this.checkOpen();
    this.ledger.addObservation(params, value);
    const o = this.ledger.observations[this.ledger.observations.length - 1]!;
    this.update({ op: 'observe', params: o.params, value: o.value });
  }

  addPending(params: Params): string {
    this.checkOpen();
    const id = this.ledger.addPending(params);
    this.update({ op: 'pending', id, params: this.ledger.pending.get(id)!.params });
    return id;
  }

  async slices(center?: Params, points?: number): Promise<GpSlice[] | null> {
    const c = center === undefined ? undefined : this.space.validateParams(center, 'center');
    return await this.query<GpSlice[] | null>({ op: 'slices', ...(c ? { center: c } : {}), ...(points !== undefined ? { points } : {}) });
  }

  async recommend(among?: readonly Params[]): Promise<Recommendation | null> {
    return await this.query<Recommendation | null>({ op: 'recommend', ...(among ? { among: [...among] } : {}) });
  }

  async importance(): Promise<Importance | null> {
    return await this.query<Importance | null>({ op: 'importance' });
  }

  /** Terminates the worker; calls in flight and later calls reject with OPTIMIZER_CLOSED. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.failAll(new OptimizerWorkerError('OPTIMIZER_CLOSED', `the ${this.name} optimizer was closed while the call was in flight`));
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }
}
