// The local executor: a piscina pool of worker threads, one trial per worker at a time.
import { availableParallelism } from 'node:os';
import { MessageChannel } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { ConfigError } from '../../errors.js';
import type { TrialTask, WorkerMessage } from './protocol.js';
import type { Executor, RunningTrial, StartOptions, TrialJob, TrialOutcome, TrialResult } from './types.js';

export interface PiscinaExecutorOptions {
  /** Worker threads, i.e. trials training at once. Default: the number of cores. */
  workers?: number;
  /** The worker module (default `dist/workers/trial.js`); tests pass fixture workers. */
  filename?: string;
  /**
   * JS-heap limit per worker (V8 old generation). TF.js CPU tensors live in typed arrays outside that heap,
   * so this stops runaway JS allocation, not every kind of memory growth.
   */
  memoryMb?: number;
  /** Loads a scenario's dataset once in the main thread; the result is posted to workers (shared buffers, no copies). */
  loadDataset?: (scenario: Record<string, unknown>) => unknown;
}

export const DEFAULT_TRIAL_WORKER = fileURLToPath(new URL('../../../workers/trial.js', import.meta.url));

export class PiscinaExecutor implements Executor {
  readonly slots: number;
  private readonly pool: Piscina<TrialTask, TrialResult>;
  private readonly datasets = new Map<string, Promise<unknown>>();
  private readonly live = new Set<() => void>();
  private readonly memoryMb: number | undefined;
  private readonly loadDataset: PiscinaExecutorOptions['loadDataset'];

  constructor(opts: PiscinaExecutorOptions = {}) {
    this.slots = opts.workers ?? availableParallelism();
    if (!Number.isInteger(this.slots) || this.slots < 1) {
      throw new ConfigError('workers', `must be a positive integer, got ${String(opts.workers)}`, `use 1..${availableParallelism()}`);
    }
    if (opts.memoryMb !== undefined && !(Number.isFinite(opts.memoryMb) && opts.memoryMb >= 16)) {
      throw new ConfigError('trialMemoryMb', `must be a number >= 16, got ${String(opts.memoryMb)}`, 'use e.g. 2048');
    }
    this.memoryMb = opts.memoryMb;
    this.loadDataset = opts.loadDataset;
    this.pool = new Piscina<TrialTask, TrialResult>({
      filename: opts.filename ?? DEFAULT_TRIAL_WORKER,
      minThreads: this.slots,
      maxThreads: this.slots,
      // Workers keep their TF.js backend warm between trials; a study rarely idles long.
      idleTimeout: 60_000,
      ...(opts.memoryMb ? { resourceLimits: { maxOldGenerationSizeMb: opts.memoryMb } } : {}),
    });
    // A worker dying outside a task must not take the study down; tasks report their own failures.
    this.pool.on('error', () => {});
  }

  start(job: TrialJob, opts: StartOptions = {}): RunningTrial {
    const { port1, port2 } = new MessageChannel();
    const stopFlag = new SharedArrayBuffer(4);
    const abort = new AbortController();
    let why: 'cancel' | 'timeout' | null = null;
    const kill = (reason: 'cancel' | 'timeout') => {
      why ??= reason;
      abort.abort();
    };
    const onCallerAbort = () => kill('cancel');
    const cancel = () => kill('cancel');
    this.live.add(cancel);
    opts.signal?.addEventListener('abort', onCallerAbort, { once: true });
    if (opts.signal?.aborted) kill('cancel');

    let drained!: () => void;
    const allProgress = new Promise<void>((r) => (drained = r));
    port1.on('message', (m: WorkerMessage) => {
      if (m.type === 'progress') {
        try {
          opts.onProgress?.(m.progress);
        } catch {
          // A failing listener (display, storage) must not crash the process from inside a port event.
        }
      }
      else if (m.type === 'unavailable') unavailable = true;
      else if (m.type === 'done') drained();
    });
    let unavailable = false;

    let timer: NodeJS.Timeout | undefined;
    const outcome = (async (): Promise<TrialOutcome> => {
      try {
        const dataset = await this.dataset(job.scenario);
        if (why) throw new Error('aborted before start');
        if (opts.timeoutMs !== undefined) timer = setTimeout(() => kill('timeout'), opts.timeoutMs);
        const result = await this.pool.run({ job, dataset, port: port2, stopFlag }, { transferList: [port2], signal: abort.signal });
        // Progress comes over our port, the result over piscina's: wait (briefly) until both are in.
        await Promise.race([allProgress, new Promise((r) => setTimeout(r, 1000).unref())]);
        return classify(result);
      } catch (err) {
        if (why === 'cancel') return { kind: 'cancelled' };
        if (why === 'timeout') return { kind: 'failed', reason: `timed out after ${opts.timeoutMs! / 1000} s (trialTimeoutSeconds)` };
        // The port's last messages (an `unavailable` among them) may still be on their way: 'done' follows them.
        // A worker that died sends no 'done'; the wait then ends after a second (a timer that holds the process).
        await new Promise<void>((r) => {
          const late = setTimeout(r, 1000);
          void allProgress.then(() => {
            clearTimeout(late);
            r();
          });
        });
        return { kind: 'failed', reason: this.describe(err), ...(unavailable ? { unavailable: true as const } : {}) };
      } finally {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onCallerAbort);
        this.live.delete(cancel);
        port1.close();
      }
    })();

    return {
      outcome,
      stop: () => {
        Atomics.store(new Int32Array(stopFlag), 0, 1);
        try {
          port1.postMessage({ type: 'stop' });
        } catch {
          // the port is already closed: the run has ended
        }
      },
    };
  }

  async close(): Promise<void> {
    for (const cancel of [...this.live]) cancel();
    await this.pool.destroy();
  }

  private dataset(scenario: Record<string, unknown>): Promise<unknown> {
    if (!this.loadDataset) return Promise.resolve(undefined);
    const key = JSON.stringify(scenario);
    let p = this.datasets.get(key);
    if (!p) {
      p = Promise.resolve().then(() => this.loadDataset!(scenario));
      this.datasets.set(key, p);
      p.catch(() => this.datasets.delete(key));
    }
    return p;
  }

  private describe(err: unknown): string {
    const e = err as { code?: string; message?: string };
    if (e?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
      return `worker ran out of memory${this.memoryMb ? ` (trialMemoryMb = ${this.memoryMb})` : ''}: ${e.message ?? ''}`.trim();
    }
    const msg = e?.message ?? String(err);
    if (/exited/i.test(msg)) return `worker died: ${msg}`;
    return `trial threw: ${msg}`;
  }
}

/** The executors' one reading of a trainer result (also used by ProcessExecutor). */
export function classify(result: TrialResult | undefined): TrialOutcome {
  if (!result || typeof result !== 'object' || typeof result.status !== 'string') {
    return { kind: 'failed', reason: `worker returned no trainer result (got ${JSON.stringify(result)})` };
  }
  if (result.status === 'stopped') return { kind: 'stopped', result };
  if (result.status === 'diverged') return { kind: 'failed', reason: `diverged: ${result.failureReason ?? 'non-finite loss'}`, result };
  return { kind: 'ok', result };
}
