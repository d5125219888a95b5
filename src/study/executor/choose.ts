// Which executor trains a machine's trials (a local `run` or a queue `worker`): a thread pool for wasm/cpu, one process per device for native TF.js (tfjs-node, tfjs-node-gpu).
import { createRequire } from 'node:module';
import { BackendError, ConfigError } from '../../errors.js';
import { NATIVE_PACKAGES, nativeInstallFix, type BackendName } from '../../shared/names.js';
import { PiscinaExecutor } from './piscina.js';
import { ProcessExecutor } from './process.js';
import type { Executor, RunningTrial, StartOptions, TrialJob } from './types.js';

export const ISOLATIONS = ['thread', 'process'] as const;
export type Isolation = (typeof ISOLATIONS)[number];

const require = createRequire(import.meta.url);

function installed(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether trials on `backend` may load native TensorFlow: named explicitly, or `auto` (which prefers it) on a
 * machine where a native package is installed.
 */
export function mayGoNative(backend: BackendName | undefined): boolean {
  if (backend === 'node' || backend === 'node-gpu') return true;
  return (backend === undefined || backend === 'auto') && Object.values(NATIVE_PACKAGES).some((p) => installed(p));
}

/** Native TF.js fails in several threads of one process (tensorflow/tfjs#2079, #3463): it gets processes. */
export function defaultIsolation(backend: BackendName | undefined): Isolation {
  return mayGoNative(backend) ? 'process' : 'thread';
}

/**
 * The isolation trials get where none was asked for: devices mean one process each; otherwise the backend decides
 * (`defaultIsolation`). The one rule for a local run, a queue worker and the runner's own executor.
 */
export function resolveIsolation(asked: Isolation | undefined, devices: readonly string[] | undefined, backend: BackendName | undefined): Isolation {
  return asked ?? (devices ? 'process' : defaultIsolation(backend));
}

/**
 * How the caller sets the backend, so a fix names what exists for its command: `--backend` (a worker's or `train`'s
 * flag) or `backend` (the field of a study config, the only way for `run`).
 */
export type BackendSetting = '--backend' | 'backend';

/** "choose wasm instead" in the caller's own terms. */
function useWasm(where: BackendSetting): string {
  return where === '--backend' ? 'use --backend wasm' : 'set "backend": "wasm" in the study config';
}

/**
 * A native backend that is not installed stops a worker or a local run at start, with the install line, instead of
 * failing every trial.
 */
export function checkBackendInstalled(backend: BackendName | undefined, where: BackendSetting = '--backend'): void {
  const pkg = backend === 'node-gpu' || backend === 'node' ? NATIVE_PACKAGES[backend] : undefined;
  if (pkg && !installed(pkg)) throw new BackendError(`${where} ${backend}: ${pkg} is not installed on this machine (fix: ${nativeInstallFix(pkg)}, or ${useWasm(where)})`);
}

/** Refuses a thread pool for a study whose trials would load native TensorFlow. */
export function checkIsolation(isolation: Isolation, backend: BackendName | undefined, field = '--isolation', where: BackendSetting = '--backend'): void {
  if (isolation === 'thread' && mayGoNative(backend)) {
    throw new ConfigError(field, `thread cannot train on the native backend ('${backend ?? 'auto'}' loads TensorFlow for Node, which fails in several threads of one process: tensorflow/tfjs#2079, #3463)`,
      `use --isolation process (one process per device; the default then), or ${useWasm(where)}`);
  }
}

export interface ExecutorChoice {
  /** Overrides the study's backend for every trial this worker trains. */
  backend?: BackendName;
  isolation: Isolation;
  /** Trials at once: threads, or processes when `devices` is not given. */
  concurrency: number;
  /** With process isolation: one process per device id. */
  devices?: string[];
  trialWorker?: string;
  /** JS-heap limit per trial (the study's trialMemoryMb). */
  memoryMb?: number;
  /** Loads a scenario's dataset once in this process for the thread pool. */
  loadDataset?: (scenario: Record<string, unknown>) => unknown;
}

/** The flag combinations createWorkerExecutor refuses, checkable before anything connects. `where`: as in checkIsolation. */
export function checkExecutorOptions(o: Pick<ExecutorChoice, 'isolation' | 'backend' | 'devices'>, where: BackendSetting = '--backend'): void {
  checkIsolation(o.isolation, o.backend, '--isolation', where);
  if (o.devices && o.isolation !== 'process') throw new ConfigError('--devices', 'needs --isolation process (one process per device)', 'add --isolation process');
}

export function createExecutor(o: ExecutorChoice): Executor {
  checkExecutorOptions(o);
  const common = { ...(o.trialWorker ? { filename: o.trialWorker } : {}), ...(o.memoryMb ? { memoryMb: o.memoryMb } : {}) };
  const inner: Executor = o.isolation === 'thread'
    ? new PiscinaExecutor({ workers: o.concurrency, ...(o.loadDataset ? { loadDataset: o.loadDataset } : {}), ...common })
    : new ProcessExecutor({ ...(o.devices ? { devices: o.devices } : { processes: o.concurrency }), ...common });
  return o.backend ? new BackendOverride(inner, o.backend) : inner;
}

/** Every run on this machine's backend, whatever the study asked for (a GPU machine trains on node-gpu). */
class BackendOverride implements Executor {
  constructor(private readonly inner: Executor, private readonly backend: BackendName) {}

  get slots(): number {
    return this.inner.slots;
  }

  start(job: TrialJob, opts?: StartOptions): RunningTrial {
    return this.inner.start({ ...job, backend: this.backend }, opts);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
