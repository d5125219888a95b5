// Runs a local study end to end: baselines, optimizer-driven search within budget, final validation; resumable, and safe beside other runners.
import { ConfigError } from '../errors.js';
import { isEvidenceRole } from '../shared/roles.js';
import type { StudyEvent } from './api_types.js';
import type { StudyConfig } from './config.js';
import { beatEnds, BudgetExhaustedError, StudyStoppedError } from './errors.js';
import { evidenceSteps, hasEvidencePhase, type EvidenceSteps } from './evidence.js';
import type { Executor } from './executor/types.js';
import { checkBackendInstalled, checkIsolation, createExecutor, resolveIsolation, type Isolation } from './executor/choose.js';
import { processOwner } from './owner.js';
import { endStudy, explainDeleted, isStopped } from './runner/end.js';
import { openStudy } from './runner/open.js';
import { reapDead } from './runner/reap.js';
import { OPEN_STATES } from '../shared/attempts.js';
import { runTrial, type ProgressEvent } from './runner/trial_run.js';
import { configOf, type StudyService } from './service.js';
import type { Lease, StudyRecord, TrialRecord } from './types.js';

export type RunnerEvent =
  | StudyEvent
  | ProgressEvent
  | {
    type: 'phase'; studyId: string; phase: 'search' | 'final' | 'done' | 'stopped'; resumed?: boolean; evidence?: EvidenceSteps;
    /** At the start: trials a dead run left RUNNING, now queued again (WAITING) or failed (out of retries). */
    recovered?: RecoveredTrial[];
  };

export type RecoveredTrial = Pick<TrialRecord, 'number' | 'role' | 'state' | 'retries' | 'failureReason'>;

export interface RunStudyOptions {
  /** The one door to the study (share it with the HTTP server so the dashboard sees live events). */
  service: StudyService;
  /**
   * Defaults to `workers` threads (a piscina pool), or `workers` child processes where the study's backend may load
   * native TF.js (it fails in several threads of one process), or one process per entry of `devices`.
   */
  executor?: Executor;
  /** Overrides `config.workers`. */
  workers?: number;
  /** thread or process; default: process with `devices` or where native TF.js may load (`resolveIsolation`), else thread. */
  isolation?: Isolation;
  /** With process isolation: one child per device id, each seeing only its own (CUDA_VISIBLE_DEVICES). */
  devices?: string[];
  /** Worker module for the default pool (tests use a fixture trainer). */
  workerFile?: string;
  /** Loads a scenario's dataset once in this thread for the default pool. */
  loadDataset?: (scenario: Record<string, unknown>) => unknown;
  onEvent?: (e: RunnerEvent) => void;
  /** Ctrl-C: stop asking, cancel running trials (handed back to the queue), leave the study resumable. */
  signal?: AbortSignal;
  /** This runner's lease owner name (default `host:pid:run-xxxxxx`). */
  owner?: string;
  /** How often to look again while other processes hold the study's last trials, ms. Default 1000. */
  pollMs?: number;
}

export interface RunStudyResult {
  study: StudyRecord;
  state: 'COMPLETE' | 'STOPPED';
  resumed: boolean;
}

/**
 * `target` is a validated config (a new study, or the study of that name if it exists: then it resumes) or a
 * stored study's id or name. Trials are claimed under leases renewed by heartbeat, so several runners (or a
 * runner and API clients) can share one study: nothing is trained twice, and a runner that dies (SIGKILL) has its
 * trials requeued once their leases expire — at once when it ran on this host.
 */
export async function runStudy(target: StudyConfig | string, opts: RunStudyOptions): Promise<RunStudyResult> {
  const { service } = opts;
  const { study, resumed } = await openStudy(target, service);
  const config = configOf(study);
  if (config.executor === 'external') {
    throw new ConfigError('executor', `study '${study.name}' is driven by external workers over the REST API`, 'use executor "local" to run it here');
  }
  // The stored config decides (a resumed study keeps its backend): one this machine lacks would fail every trial.
  if (!opts.executor) checkBackendInstalled(config.backend, 'backend');
  const isolation = resolveIsolation(opts.isolation, opts.devices, config.backend);
  // Also the stored backend (a resumed study keeps its own), named as the config field: `run` has no --backend.
  if (!opts.executor) checkIsolation(isolation, config.backend, '--isolation', 'backend');
  const unsubscribe = opts.onEvent ? await service.subscribe(study.id, opts.onEvent) : () => {};
  const emit = (e: RunnerEvent) => opts.onEvent?.(e);
  const ownExecutor = !opts.executor;
  const executor =
    opts.executor ??
    createExecutor({
      isolation,
      concurrency: opts.workers ?? config.workers,
      ...(opts.devices ? { devices: opts.devices } : {}),
      ...(opts.workerFile ? { trialWorker: opts.workerFile } : {}),
      ...(config.trialMemoryMb ? { memoryMb: config.trialMemoryMb } : {}),
      ...(opts.loadDataset ? { loadDataset: opts.loadDataset } : {}),
    });
  const signal = opts.signal ?? new AbortController().signal;
  const sid = study.id;
  const slots = new Slots(service, study, executor, opts.owner ?? processOwner('run'), signal, emit);
  let closing: Promise<void> | undefined;
  const closeOnce = () => (closing ??= executor.close().catch(() => undefined));

  try {
    await service.setStudyState(sid, 'RUNNING');
    // Starts (or continues) the search clock: the time budget counts from here, baselines included.
    await service.tickSearchClock(sid);
    await service.ensureCreated(sid);
    // A run killed here (SIGKILL, OOM) left its trials RUNNING: they go back to the queue now, and the display says so.
    const recovered = (await reapDead(service, sid)).map(({ number, role, state, retries, failureReason }) => ({ number, role, state, retries, failureReason }));
    emit({ type: 'phase', studyId: sid, phase: 'search', resumed, ...(recovered.length ? { recovered } : {}) });

    let exhausted = false;
    // `renorm-tune stop` from elsewhere, seen whenever a slot is free (by the ask, or by a look once the budget is
    // spent, and in the evidence phase): no new work; those running here finish and are kept.
    let stopped = false;
    await slots.drain(isSearchWork, async (free) => {
      if (stopped) return;
      if (exhausted) {
        stopped = await isStopped(service, sid);
        return;
      }
      try {
        await service.ask(sid, free);
      } catch (err) {
        if (err instanceof StudyStoppedError) stopped = true;
        else if (!(err instanceof BudgetExhaustedError)) throw err;
        exhausted = true;
      }
    }, opts.pollMs ?? 1000, () => stopped);

    if (!stopped && !signal.aborted && hasEvidencePhase(config)) {
      emit({ type: 'phase', studyId: sid, phase: 'final', evidence: evidenceSteps(config) });
      // The race, the baselines' final runs and (once the race is decided) the winner's: advanceEvidence queues
      // each as it becomes due, whenever a slot is free and nothing is queued.
      await slots.drain((t) => !isSearchWork(t), async () => {
        if (!stopped && !(stopped = await isStopped(service, sid))) await service.advanceEvidence(sid);
      }, opts.pollMs ?? 1000, () => stopped);
      if (!stopped && !signal.aborted) await service.summarizeFinalValidation(sid);
    }
    // Stopped from outside (the study is STOPPED already): end as a Ctrl-C would.
    if (stopped) return await endStudy(service, sid, 'STOPPED', resumed, emit);

    if (signal.aborted) await slots.releaseAll();
    return await endStudy(service, sid, signal.aborted ? 'STOPPED' : 'COMPLETE', resumed, emit);
  } catch (err) {
    // Leave nothing of ours RUNNING: stop the pool first so no run still in flight finishes a trial after it was
    // handed back, then release our leases so another runner can take the trials at once. The leases are noted
    // before: a run the closing pool cancels forgets its trial. (One that finished meanwhile, or whose lease was
    // lost, refuses the release: its token is spent.)
    const ours = slots.holding();
    if (ownExecutor) await closeOnce();
    try {
      await slots.releaseAll(ours);
      await service.setStudyState(sid, 'STOPPED');
    } catch {
      // storage itself is gone (or the study: deleted); the leases expire and the next run reaps them
    }
    throw await explainDeleted(err, service, study);
  } finally {
    slots.stop();
    unsubscribe();
    if (ownExecutor) await closeOnce();
  }
}

/** Search trials and baselines; race and final runs are the evidence phase's. */
function isSearchWork(t: TrialRecord): boolean {
  return !isEvidenceRole(t.role);
}

interface Held {
  trial: TrialRecord;
  lease: Lease;
  done: Promise<unknown>;
  /** Stops the run when its lease turns out to be lost. */
  abort: AbortController;
}

/** The executor's slots, each running one trial this runner claimed, with one heartbeat timer renewing every lease held. */
class Slots {
  private readonly held = new Map<number, Held>();
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly leaseSeconds: number;

  constructor(
    private readonly service: StudyService,
    private readonly study: StudyRecord,
    private readonly executor: Executor,
    private readonly owner: string,
    private readonly signal: AbortSignal,
    private readonly emit: (e: RunnerEvent) => void,
  ) {
    this.leaseSeconds = configOf(study).leaseSeconds;
  }

  /**
   * Keeps every slot busy with WAITING trials that `accept` takes (calling `refill(free)` when none is queued)
   * until none is left, none runs here, and none of them is RUNNING elsewhere (another runner's trials: waited
   * for, and reaped if their runner dies); or until the signal fires. Once `halted()` (the study was stopped from
   * outside) it takes nothing new and returns when what runs here has finished.
   */
  async drain(accept: (t: TrialRecord) => boolean, refill: (free: number) => Promise<void>, pollMs: number, halted: () => boolean = () => false): Promise<void> {
    this.startHeartbeat();
    const aborted = new Promise<void>((r) => (this.signal.aborted ? r() : this.signal.addEventListener('abort', () => r(), { once: true })));
    for (;;) {
      while (!this.signal.aborted && !halted() && this.held.size < this.executor.slots) {
        let t = await this.claimNext(accept);
        if (!t) {
          await refill(this.executor.slots - this.held.size);
          if (halted()) break;
          t = await this.claimNext(accept);
        }
        if (!t) break;
      }
      if (this.signal.aborted) {
        await Promise.allSettled([...this.held.values()].map((h) => h.done));
        return;
      }
      if (this.held.size === 0) {
        // Stopped from outside: what runs here has finished; what waits stays queued for the resume.
        if (halted()) return;
        await this.service.reapExpired(this.study.id);
        const pending = (await this.service.listTrials(this.study.id, { states: OPEN_STATES })).filter(accept);
        if (pending.length === 0) return;
        // Others hold the last trials: wait for them (their leases tell us if they die).
        await Promise.race([aborted, new Promise((r) => setTimeout(r, pollMs))]);
        continue;
      }
      await Promise.race([...[...this.held.values()].map((h) => h.done), aborted]);
    }
  }

  /** The trials held now, with their leases. */
  holding(): Held[] {
    return [...this.held.values()];
  }

  /** Hands `trials` (default: every one still held) back to the queue (after a cancel: their runs have ended). */
  async releaseAll(trials: Held[] = this.holding()): Promise<void> {
    for (const h of trials) await this.service.releaseTrial(this.study.id, h.trial.id, h.lease.token).catch(() => false);
    this.held.clear();
  }

  stop(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  private async claimNext(accept: (t: TrialRecord) => boolean): Promise<Held | undefined> {
    for (const t of await this.service.listTrials(this.study.id, { states: ['WAITING'] })) {
      if (!accept(t) || this.held.has(t.id)) continue;
      // The atomic WAITING -> RUNNING claim; another runner on the same database may have won it.
      const claimed = await this.service.claimTrial(this.study.id, t.id, { owner: this.owner, seconds: this.leaseSeconds });
      if (!claimed) continue;
      const abort = new AbortController();
      const onStop = () => abort.abort();
      this.signal.addEventListener('abort', onStop, { once: true });
      const h: Held = { trial: claimed.trial, lease: claimed.lease, abort, done: Promise.resolve() };
      h.done = runTrial(this.service, this.executor, this.study, claimed.trial, claimed.lease.token, { signal: abort.signal, onProgress: this.emit })
        .catch(async (err: unknown) => {
          // This machine cannot train (its backend did not start): the trial goes back to the queue, not to FAIL,
          // and the error ends the run rather than failing every trial in turn.
          if ((err as { code?: string }).code === 'BACKEND_UNAVAILABLE') {
            await this.service.releaseTrial(this.study.id, t.id, claimed.lease.token).catch(() => false);
            this.held.delete(t.id);
          }
          throw err;
        })
        .then(async (end) => {
          await this.service.tickSearchClock(this.study.id).catch(() => 0);
          // Cancelled by Ctrl-C, a run keeps its lease until releaseAll hands it back; finished, lost (or stopped
          // by the heartbeat because its lease was lost) it is no longer ours.
          if (end !== 'cancelled' || !this.signal.aborted) this.held.delete(t.id);
        })
        .finally(() => this.signal.removeEventListener('abort', onStop));
      this.held.set(t.id, h);
      return h;
    }
    return undefined;
  }

  /** Every third of the lease: renew each lease held; a lost one stops its run (another worker owns the trial now). */
  private startHeartbeat(): void {
    if (this.heartbeat) return;
    this.heartbeat = setInterval(() => void this.beat(), (this.leaseSeconds * 1000) / 3);
    this.heartbeat.unref();
  }

  private async beat(): Promise<void> {
    await this.service.tickSearchClock(this.study.id).catch(() => 0);
    for (const h of [...this.held.values()]) {
      try {
        h.lease = await this.service.renewLease(this.study.id, h.trial.id, h.lease.token, this.leaseSeconds);
      } catch (err) {
        // Lost (another runner owns the trial now), or the study deleted.
        if (beatEnds(err)) h.abort.abort();
      }
    }
  }
}
