// An executor with one child process per slot (per device): the way to run native TF.js, which fails in several threads of one process.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../errors.js';
import { classify, DEFAULT_TRIAL_WORKER } from './piscina.js';
import type { ChildReply, ChildRequest } from './process_child.js';
import type { Executor, RunningTrial, StartOptions, TrialJob, TrialOutcome, TrialProgress, TrialResult } from './types.js';

const CHILD = fileURLToPath(new URL('./process_child.js', import.meta.url));

/** The environment of a process that trains on `device` (one GPU index), or on what this process sees. */
export function deviceEnv(device: string | undefined): NodeJS.ProcessEnv {
  const env = { ...process.env };
  if (device !== undefined) env.CUDA_VISIBLE_DEVICES = device;
  // TensorFlow takes nearly all of a GPU's memory per process by default, so a second process on the same GPU
  // (processes without --devices) would fail to allocate: grow on demand instead, unless the user chose.
  env.TF_FORCE_GPU_ALLOW_GROWTH ??= 'true';
  return env;
}

export interface ProcessExecutorOptions {
  /**
   * One child per entry, each seeing only its device through CUDA_VISIBLE_DEVICES (`['0', '1']` for two GPUs).
   * Without it, `processes` children with the parent's environment.
   */
  devices?: string[];
  /** Children when `devices` is not given. Default 1. */
  processes?: number;
  /** The trial-worker module (default `dist/workers/trial.js`); the same protocol as the piscina pool's. */
  filename?: string;
  /** JS-heap limit per child (--max-old-space-size). */
  memoryMb?: number;
  /** Children load the scenario's dataset themselves (each process holds its own copy). Default true. */
  loadDataset?: boolean;
  /**
   * With a trial timeout, how long a run may take to start (a new child, the trial-worker module with its backend,
   * the dataset) before its own clock starts. Default STARTUP_LIMIT_MS.
   */
  startupMs?: number;
}

/** The signals a terminal or a service manager sends to stop a process group. */
const STOP_SIGNALS: ReadonlySet<NodeJS.Signals> = new Set(['SIGINT', 'SIGTERM', 'SIGHUP']);
/** How long a child killed by one of them waits for the caller's cancel before its trial fails. */
export const STOP_SIGNAL_GRACE_MS = 2000;

/** Loading a native backend (CUDA initialisation) and a dataset in a fresh process: minutes at most. */
export const STARTUP_LIMIT_MS = 300_000;

interface Slot {
  device: string | undefined;
  child: ChildProcess | undefined;
  busy: boolean;
}

/**
 * tfjs-node and tfjs-node-gpu bind one native TensorFlow per process, and several worker threads of one process
 * sharing it crash or deadlock (tensorflow/tfjs#2079, #3463): so each slot is its own process, kept between trials
 * (the backend initialises once), killed to cancel a run and replaced on the next one. A child that dies fails
 * its trial with the reason; the next trial gets a fresh child.
 */
export class ProcessExecutor implements Executor {
  readonly slots: number;
  private readonly pool: Slot[];
  private readonly waiters: (() => void)[] = [];
  private readonly filename: string;
  private closed = false;

  constructor(private readonly opts: ProcessExecutorOptions = {}) {
    if (opts.devices !== undefined && (opts.devices.length === 0 || opts.devices.some((d) => !/^[A-Za-z0-9:-]{1,64}$/.test(d)))) {
      throw new ConfigError('--devices', `must list device ids such as 0,1, got ${JSON.stringify(opts.devices.join(','))}`, 'e.g. --devices 0,1');
    }
    const n = opts.devices?.length ?? opts.processes ?? 1;
    if (!Number.isInteger(n) || n < 1 || n > 256) throw new ConfigError('processes', `must be an integer in [1, 256], got ${String(n)}`, 'e.g. 1 per GPU');
    this.slots = n;
    this.filename = opts.filename ?? DEFAULT_TRIAL_WORKER;
    this.pool = Array.from({ length: n }, (_, i) => ({ device: opts.devices?.[i], child: undefined, busy: false }));
  }

  start(job: TrialJob, opts: StartOptions = {}): RunningTrial {
    let slot: Slot | undefined;
    let stopRequested = false;
    const outcome = (async (): Promise<TrialOutcome> => {
      slot = await this.acquire(opts.signal);
      if (!slot) return { kind: 'cancelled' };
      try {
        return await this.runOn(slot, job, opts, () => stopRequested);
      } finally {
        slot.busy = false;
        this.waiters.shift()?.();
      }
    })();
    return {
      outcome,
      stop: () => {
        stopRequested = true;
        if (slot?.child?.connected) slot.child.send({ type: 'stop' } satisfies ChildRequest);
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w();
    await Promise.all(this.pool.map((s) => killChild(s)));
  }

  /** A free slot, in order; undefined when the caller cancels (or the executor closes) while waiting. */
  private async acquire(signal: AbortSignal | undefined): Promise<Slot | undefined> {
    for (;;) {
      if (this.closed || signal?.aborted) return undefined;
      const free = this.pool.find((s) => !s.busy);
      if (free) {
        free.busy = true;
        return free;
      }
      await new Promise<void>((r) => {
        this.waiters.push(r);
        signal?.addEventListener('abort', () => r(), { once: true });
      });
    }
  }

  private runOn(slot: Slot, job: TrialJob, opts: StartOptions, stopRequested: () => boolean): Promise<TrialOutcome> {
    const child = (slot.child ??= this.spawn(slot));
    const startupMs = this.opts.startupMs ?? STARTUP_LIMIT_MS;
    return new Promise<TrialOutcome>((resolve) => {
      let why: 'cancel' | 'timeout' | 'startup' | undefined;
      let timer: NodeJS.Timeout | undefined;
      const settle = (o: TrialOutcome) => {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(o);
      };
      const kill = (reason: 'cancel' | 'timeout' | 'startup') => {
        why ??= reason;
        // A native trainer may never look at a stop flag: the process is the unit that can always be stopped.
        child.kill('SIGKILL');
      };
      /** Set once the child has died of a stop signal and its outcome waits for our own cancel (see onExit). */
      let died: (() => void) | undefined;
      const onAbort = () => {
        if (!died) return kill('cancel');
        why ??= 'cancel';
        died();
      };
      const onMessage = (m: ChildReply) => {
        if (m.type === 'started') {
          clearTimeout(timer);
          if (opts.timeoutMs !== undefined) timer = setTimeout(() => kill('timeout'), opts.timeoutMs);
        } else if (m.type === 'progress') {
          try {
            opts.onProgress?.(m.progress as TrialProgress);
          } catch {
            // a failing listener must not take the executor down
          }
        } else if (m.type === 'result') settle(classify(m.result as TrialResult | undefined));
        else if (m.type === 'error') settle({ kind: 'failed', reason: `trial threw: ${m.message}`, ...(m.unavailable ? { unavailable: true as const } : {}) });
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        if (slot.child === child) slot.child = undefined;
        clearTimeout(timer);
        // A stop signal sent to the whole process group (a terminal's Ctrl-C, systemd's stop) reaches the trial's
        // process and this one together, and the child's death may be seen before our own handler cancels the run:
        // the trial would FAIL where it should be handed back. Such a death waits a moment for that cancel.
        if (why === undefined && !this.closed && signal !== null && STOP_SIGNALS.has(signal)) {
          died = () => {
            clearTimeout(timer);
            decide(code, signal);
          };
          timer = setTimeout(died, STOP_SIGNAL_GRACE_MS);
          return;
        }
        decide(code, signal);
      };
      const decide = (code: number | null, signal: NodeJS.Signals | null) => {
        if (why === 'cancel' || this.closed) settle({ kind: 'cancelled' });
        else if (why === 'timeout') settle({ kind: 'failed', reason: `timed out after ${opts.timeoutMs! / 1000} s (trialTimeoutSeconds)` });
        else if (why === 'startup') settle({ kind: 'failed', reason: `did not start within ${startupMs / 1000} s (loading the trial worker, its backend and the dataset in a fresh process)` });
        else {
          // V8 aborts a process over its heap limit (--max-old-space-size, set from trialMemoryMb).
          const oom = this.opts.memoryMb && (signal === 'SIGABRT' || code === 134) ? `: most likely out of memory (trialMemoryMb = ${this.opts.memoryMb})` : '';
          settle({ kind: 'failed', reason: `worker process died (${signal ? `signal ${signal}` : `exit code ${String(code)}`})${slot.device !== undefined ? ` on device ${slot.device}` : ''}${oom}` });
        }
      };
      child.on('message', onMessage);
      child.on('exit', onExit);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      if (opts.signal?.aborted) return kill('cancel');
      // The trial's clock starts when the child says it has started; until then only a start-up limit applies.
      if (opts.timeoutMs !== undefined) timer = setTimeout(() => kill('startup'), startupMs);
      child.send({ type: 'run', job, filename: this.filename, loadData: this.opts.loadDataset !== false } satisfies ChildRequest);
      if (stopRequested()) child.send({ type: 'stop' } satisfies ChildRequest);
    });
  }

  private spawn(slot: Slot): ChildProcess {
    const child = fork(CHILD, [], {
      env: deviceEnv(slot.device),
      execArgv: this.opts.memoryMb ? [`--max-old-space-size=${Math.trunc(this.opts.memoryMb)}`] : [],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    // A child that fails to start reports through 'exit'; without a listener an 'error' would crash the parent.
    child.on('error', () => undefined);
    // One that dies between trials (a leaked crash, the OOM killer) leaves its slot: the next trial spawns a fresh
    // one rather than being sent to a closed channel, where nothing, not even its timeout's kill, would settle it.
    child.once('exit', () => {
      if (slot.child === child) slot.child = undefined;
    });
    return child;
  }
}

function killChild(slot: Slot): Promise<void> {
  const child = slot.child;
  slot.child = undefined;
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => {
    child.once('exit', () => r());
    child.kill('SIGKILL');
  });
}
