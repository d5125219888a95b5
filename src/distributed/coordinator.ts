// Coordinates a study over the queue: asks the optimizer, enqueues WAITING trials for workers, reaps lost leases, runs final validation; trains nothing.
import { ConfigError } from '../errors.js';
import { printable } from '../shared/printable.js';
import { isEvidenceRole } from '../shared/roles.js';
import { BudgetExhaustedError, StudyStoppedError } from '../study/errors.js';
import { evidenceSteps, hasEvidencePhase } from '../study/evidence.js';
import { processOwner } from '../study/owner.js';
import type { RunnerEvent, RunStudyResult } from '../study/runner.js';
import { endStudy, explainDeleted, isStopped } from '../study/runner/end.js';
import { openStudy } from '../study/runner/open.js';
import { reapDead } from '../study/runner/reap.js';
import type { StudyConfig } from '../study/config.js';
import { configOf, MAX_ASK, type StudyService } from '../study/service.js';
import { trialSummary } from '../study/service/views.js';
import type { TrialRecord, TrialState } from '../study/types.js';
import { Depth } from './depth.js';
import { isOpen } from '../shared/attempts.js';
import { RedisOutage } from './outage.js';
import type { Presence } from './presence.js';
import type { TrialQueue } from './queue.js';

export interface CoordinateOptions {
  service: StudyService;
  queue: TrialQueue;
  presence: Presence;
  /**
   * Search trials kept queued or running at once. Default: the slots the live workers announce (at least 1), so
   * every free slot gets a freshly asked trial and the optimizer sees every finished result first, as in a local run.
   */
  depth?: number;
  /** This coordinator's name in presence records (default `host:pid:coordinator-xxxxxx`). */
  owner?: string;
  onEvent?: (e: RunnerEvent) => void;
  /** Ctrl-C: the study is marked STOPPED at once (workers drop its queued jobs, and hand their running trials back at their next heartbeat); asking stops. */
  signal?: AbortSignal;
  /** Longest wait between passes, ms (a finished job wakes the coordinator sooner). Default 1000. */
  pollMs?: number;
  /** Advice for the operator ("no worker yet"). */
  log?: (line: string) => void;
  /** The queue flags a worker needs, quoted in that advice (default `--redis <same Redis>`). */
  workerFlags?: string;
}

/** Race and final runs: the evidence phase's work, after the search. */
const isEvidence = (t: TrialRecord) => isEvidenceRole(t.role);
const open = (t: TrialRecord) => isOpen(t.state);

/**
 * Everything the coordinator knows lives in the database, so it can be killed and restarted at any moment (or
 * run twice): each pass re-reads the study, reaps expired leases, tops the queue up to `depth`, and (re-)enqueues
 * every WAITING trial under its idempotent job id, which also refills a Redis that lost everything.
 */
export async function coordinateStudy(target: StudyConfig | string, opts: CoordinateOptions): Promise<RunStudyResult> {
  const { service, queue, presence } = opts;
  const { study, resumed } = await openStudy(target, service);
  const config = configOf(study);
  if (config.executor === 'external') {
    throw new ConfigError('executor', `study '${study.name}' is driven by external workers over the REST API`, 'use executor "local" to run it on queue workers');
  }
  const sid = study.id;
  const emit = (e: RunnerEvent) => opts.onEvent?.(e);
  const signal = opts.signal ?? new AbortController().signal;
  const pollMs = opts.pollMs ?? 1000;
  const wake = new Wake();
  queue.onSettled(() => wake.fire());
  const watch = new TrialWatch(sid, emit);
  const depth = new Depth(presence, opts.depth, opts.log, opts.workerFlags ?? ' --redis <same Redis>');
  if (opts.log) presence.watch(new RedisOutage(opts.log, '[queue]', queue.where, 'trials in training go on (their leases live in the database); queuing new ones waits until it is back'));

  await service.setStudyState(sid, 'RUNNING');
  // Ctrl-C: the study is STOPPED in the store at once, not when the pass under way ends (its ask may take seconds),
  // so no worker starts one of its queued trials meanwhile (workers drop the jobs of a study that is not RUNNING).
  let stopping: Promise<unknown> | undefined;
  const onAbort = () => {
    wake.fire();
    stopping ??= service.setStudyState(sid, 'STOPPED').catch(() => undefined);
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  await service.tickSearchClock(sid);
  await service.ensureCreated(sid);
  const leave = await presence.announce('coordinator', { owner: opts.owner ?? processOwner('coordinator'), studyId: sid, studyName: study.name });
  try {
    watch.seed(await service.listTrials(sid));
    emit({ type: 'phase', studyId: sid, phase: 'search', resumed });

    let exhausted = false;
    // `renorm-tune stop` from elsewhere, seen on every pass (an ask sees it only while the queue has room): no new
    // trials; workers see it at their next heartbeat and hand their trials back, WAITING for the resume.
    let stopped = false;
    for (;;) {
      if (signal.aborted) break;
      if ((stopped = await isStopped(service, sid))) break;
      let trials = await pass(service, sid, watch, opts.log);
      const inFlight = trials.filter((t) => !isEvidence(t) && open(t)).length;
      const want = await depth.value();
      if (!exhausted && inFlight < want) {
        try {
          // The service grants at most MAX_ASK per call; the rest comes on the next passes.
          await service.ask(sid, Math.min(want - inFlight, MAX_ASK));
          trials = await service.listTrials(sid);
        } catch (err) {
          if (err instanceof StudyStoppedError) stopped = true;
          else if (!(err instanceof BudgetExhaustedError)) throw err;
          exhausted = true;
        }
      }
      if (stopped || signal.aborted) break;
      const search = trials.filter((t) => !isEvidence(t));
      await queue.enqueue(sid, search.filter((t) => t.state === 'WAITING'));
      watch.update(trials);
      if (exhausted && !search.some(open)) break;
      await wake.wait(pollMs);
    }

    if (!stopped && !signal.aborted && hasEvidencePhase(config)) {
      emit({ type: 'phase', studyId: sid, phase: 'final', evidence: evidenceSteps(config) });
      // The race, the baselines' final runs, then (once the race is decided) the winner's: advanceEvidence queues
      // each as it becomes due; the loop enqueues them and waits until nothing is due or open.
      for (;;) {
        if (signal.aborted) break;
        if ((stopped = await isStopped(service, sid))) break;
        const state = await service.advanceEvidence(sid);
        const evidence = (await pass(service, sid, watch, opts.log)).filter(isEvidence);
        if (signal.aborted) break;
        await queue.enqueue(sid, evidence.filter((t) => t.state === 'WAITING'));
        if (state === 'done' && !evidence.some(open)) break;
        await wake.wait(pollMs);
      }
      if (!stopped && !signal.aborted) await service.summarizeFinalValidation(sid);
    }
    await stopping;
    // Stopped from outside (the study is STOPPED already): end as a Ctrl-C would.
    if (stopped) return await endStudy(service, sid, 'STOPPED', resumed, emit);
    return await endStudy(service, sid, signal.aborted ? 'STOPPED' : 'COMPLETE', resumed, emit);
  } catch (err) {
    throw await explainDeleted(err, service, study);
  } finally {
    signal.removeEventListener('abort', onAbort);
    await leave();
  }
}

/** One look at the study: lost leases back to the queue (or FAIL after maxRetries), the search clock, every trial. */
async function pass(service: StudyService, sid: string, watch: TrialWatch, log?: (line: string) => void): Promise<TrialRecord[]> {
  for (const t of await reapDead(service, sid)) log?.(lostWorkerLine(t));
  await service.tickSearchClock(sid);
  const trials = await service.listTrials(sid);
  watch.update(trials);
  return trials;
}

/** Said when a trial's worker is gone (its lease expired, or its process died on this host). */
function lostWorkerLine(t: Pick<TrialRecord, 'number' | 'state' | 'retries' | 'failureReason'>): string {
  const what = t.state === 'WAITING' ? `queued again (retry ${t.retries})` : `${t.state}: ${printable(t.failureReason ?? 'no reason recorded')}`;
  return `[queue] trial #${t.number} lost its worker (the lease expired, or the process died): ${what}`;
}


/** Turns state changes seen in the database (made by any worker) into the runner's trial events. */
class TrialWatch {
  private readonly seen = new Map<number, TrialState>();

  constructor(private readonly studyId: string, private readonly emit: (e: RunnerEvent) => void) {}

  seed(trials: readonly TrialRecord[]): void {
    for (const t of trials) this.seen.set(t.id, t.state);
  }

  update(trials: readonly TrialRecord[]): void {
    for (const t of trials) {
      if (this.seen.get(t.id) === t.state) continue;
      this.seen.set(t.id, t.state);
      this.emit({ type: 'trial', studyId: this.studyId, trial: trialSummary(t) });
    }
  }
}

/** A wake-up call that can arrive before anyone waits for it (a job settling while a pass runs is not lost). */
class Wake {
  private pending = false;
  private resolve: (() => void) | undefined;

  fire(): void {
    if (this.resolve) {
      this.resolve();
      this.resolve = undefined;
    } else {
      this.pending = true;
    }
  }

  async wait(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((r) => {
      this.resolve = r;
      timer = setTimeout(r, ms);
    });
    clearTimeout(timer);
    this.resolve = undefined;
  }
}
