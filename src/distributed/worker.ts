// A queue worker: takes trial jobs, claims each trial under its own database lease, trains it on an executor, and leaves when idle or told to.
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { ConfigError, NotFoundError } from '../errors.js';
import { printable } from '../shared/printable.js';
import { roleLabel } from '../shared/roles.js';
import type { Executor } from '../study/executor/types.js';
import { processOwner } from '../study/owner.js';
import { runTrial, type RunEnd } from '../study/runner/trial_run.js';
import { type StudyConfig } from '../study/config.js';
import { configOf, type StudyService } from '../study/service.js';
import { checkPeer } from './compat.js';
import { LeaseKeeper } from './lease_keeper.js';
import { FOREIGN_AFTER_MS, whoRunsMissing } from './missing_study.js';
import { isConnectionError, RedisOutage } from './outage.js';
import type { CoordinatorPresence, Presence, WorkerPresence } from './presence.js';
import { CLOSE_GRACE_MS, parseJobData, QUEUE_NAME, type TrialJobData, WORKER_SETTINGS } from './queue.js';
import { bullConnection, type RedisRef } from './redis.js';
import { trainedOn } from '../shared/trained_on.js';
import type { WorkerObserver } from './worker_metrics.js';

export interface QueueWorkerOptions {
  service: StudyService;
  /** Names the database in messages (password redacted). */
  dbWhere: string;
  redis: RedisRef;
  presence: Presence;
  /** Trains the trials; its `slots` is this worker's concurrency. */
  executor: Executor;
  /** Lease owner name (default `host:pid:worker-xxxxxx`). */
  owner?: string;
  /**
   * Leave after this long with nothing to train and no live coordinator on the queue, ms (default 2000); 0 never
   * leaves. A coordinator that is alive (or was killed less than its presence TTL ago) keeps its workers waiting.
   */
  idleMs?: number;
  /**
   * Checks this machine can train a study (loads its dataset) before a trial is claimed, once per scenario. A config
   * or data error stops the worker, not the trial; any other failure fails that job only, and the next job loads again.
   */
  prepare?: (config: StudyConfig) => Promise<void>;
  /** SIGTERM: take nothing more, cancel running trials and hand them back to the queue, then return. */
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** What it was told to train on (--backend, the device found there, --devices), for `renorm-tune queue` to show. */
  trainsOn?: Pick<WorkerPresence, 'backend' | 'device' | 'devices'>;
  /** Told of slots taken and freed and of each trial's end (`worker --metrics-port`). */
  observer?: WorkerObserver;
}

export interface QueueWorkerResult {
  /** Why it left: idle, a signal, or a fatal problem (`error`) such as a version mismatch or a foreign job. */
  reason: 'idle' | 'signal' | 'fatal';
  /** Trials this worker ran to a recorded end. */
  finished: number;
  error?: Error;
  /** The queue connection would not close (Redis away): its sockets may keep the process alive, so a CLI exits explicitly. */
  queueLeftOpen?: true;
}

/** A job this worker will not act on; the job completes (and is forgotten) without touching the trial. */
class Dropped {
  constructor(readonly why: string) {}
}

/**
 * Runs until idle, signalled or stopped by a fatal error. A job is only a hint: the worker trains a trial after
 * its own WAITING -> RUNNING claim in the database, under a lease it renews; so a stale, duplicated or redelivered
 * job costs a read and nothing else, and two workers can never train one trial at the same time.
 */
export async function runQueueWorker(opts: QueueWorkerOptions): Promise<QueueWorkerResult> {
  const { service, executor, presence } = opts;
  const owner = opts.owner ?? processOwner('worker');
  const log = opts.log ?? (() => undefined);
  const idleMs = opts.idleMs ?? 2000;

  // Before taking anything: a coordinator of another build already on this queue is a refusal, with the reason.
  for (const c of await presence.coordinators()) checkPeer(c, `the coordinator ${c.owner} of study '${c.studyName}'`);

  let stopping: QueueWorkerResult['reason'] | undefined;
  let fatal: Error | undefined;
  let finished = 0;
  let active = 0;
  let lastBusy = Date.now();
  const running = new Set<AbortController>();
  const prepared = new Map<string, Promise<void>>();
  /** Studies whose leftover jobs were dropped, and studies whose memory limit this worker cannot apply (said once each). */
  const gone = new Set<string>();
  const unlimited = new Set<string>();
  /** Studies its database does not hold, being watched to tell a deleted one from another database's. */
  const missing = new Map<string, Promise<CoordinatorPresence | undefined>>();

  const handle = async (job: Job<TrialJobData>): Promise<RunEnd | Dropped> => {
    const data = parseJobData(job.data);
    if (typeof data === 'string') return new Dropped(`malformed job ${job.id}: ${data}`);
    checkPeer(data, `job ${job.id} (from its coordinator)`);
    if (stopping) return new Dropped('this worker is stopping');
    let study;
    try {
      study = await service.resolve(data.studyId);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      // Deleted (its jobs outlive it in Redis, and its coordinator may not have left yet), or another database's
      // study: a coordinator still announcing it long after says which. Jobs of one study share one look.
      let look = missing.get(data.studyId);
      if (!look && !gone.has(data.studyId)) {
        missing.set(data.studyId, (look = whoRunsMissing(presence, data.studyId, {
          stopping: () => stopping !== undefined,
          onWait: (c) => log(`[worker] job ${job.id} is for study ${data.studyId}, which ${opts.dbWhere} does not hold while its coordinator ${c.owner} announces it: waiting up to ${FOREIGN_AFTER_MS / 1000} s for the coordinator to leave (a deleted study) before calling this database the wrong one`),
        })));
        void look.finally(() => missing.delete(data.studyId)).catch(() => undefined);
      }
      const coordinator = look ? await look : undefined;
      if (stopping) return new Dropped('this worker is stopping');
      if (!coordinator) {
        if (!gone.has(data.studyId)) log(`[worker] jobs for study ${data.studyId} dropped: ${opts.dbWhere} does not hold it and no coordinator runs it (deleted?)`);
        gone.add(data.studyId);
        return new Dropped(`study ${data.studyId} is gone`);
      }
      throw new ConfigError('--db', `job ${job.id} is for study ${data.studyId}, which ${opts.dbWhere} does not hold while its coordinator ${coordinator.owner} runs it: this worker's database is not its coordinator's`,
        'give the worker the coordinator\'s --db, or give each database its own --redis-prefix');
    }
    if (study.state !== 'RUNNING') return new Dropped(`study '${study.name}' is ${study.state}`);
    const memoryMb = configOf(study).trialMemoryMb;
    if (memoryMb !== undefined && !unlimited.has(study.id)) {
      unlimited.add(study.id);
      log(`[worker] study '${study.name}' sets trialMemoryMb = ${memoryMb}: queue workers do not limit a trial's memory (a local run does)`);
    }
    const trial = await service.getTrial(study.id, data.trialId);
    if (trial.state !== 'WAITING') return new Dropped(`trial #${trial.number} is ${trial.state}`);
    if (trial.retries !== data.round) return new Dropped(`trial #${trial.number} is in round ${trial.retries}, the job is for round ${data.round}`);
    const config = configOf(study);
    if (opts.prepare) {
      const key = JSON.stringify(config.scenario);
      let p = prepared.get(key);
      // A failure is not kept: a fatal one (bad data) stops this worker, a passing one (memory) is tried again.
      if (!p) prepared.set(key, (p = opts.prepare(config).catch((err: unknown) => {
        prepared.delete(key);
        throw err;
      })));
      await p;
    }
    const claimed = await service.claimTrial(study.id, trial.id, { owner, seconds: config.leaseSeconds });
    if (!claimed) return new Dropped(`trial #${trial.number} was claimed by someone else first`);
    const { token } = claimed.lease;
    const name = `trial #${trial.number}${trial.role === 'search' ? '' : ` (${roleLabel(trial.role)})`} of '${study.name}'`;
    log(`[worker] ${name}: training (lease token ${token})`);
    const abort = new AbortController();
    let why = 'worker stopping';
    running.add(abort);
    const keeper = new LeaseKeeper(service, study.id, trial.id, token, config.leaseSeconds, (w) => {
      why = w;
      abort.abort();
    }).start();
    let end: RunEnd;
    try {
      end = await runTrial(service, executor, study, claimed.trial, token, { signal: abort.signal });
    } catch (err) {
      // The store failed under us, or this machine cannot train: hand the trial back so another worker can take it
      // now, not at lease expiry.
      const released = await service.releaseTrial(study.id, trial.id, token).catch(() => false);
      if ((err as { code?: string }).code === 'BACKEND_UNAVAILABLE') {
        log(`[worker] ${name}: ${released ? 'handed back to the queue' : 'lease lost'}: this machine cannot train it; stopping`);
      }
      throw err;
    } finally {
      keeper.stop();
      running.delete(abort);
    }
    if (end === 'cancelled') {
      const released = await service.releaseTrial(study.id, trial.id, token).catch(() => false);
      opts.observer?.trialEnded(released ? 'handed_back' : 'lease_lost');
      log(`[worker] ${name}: ${why === 'study deleted' ? 'stopped: its study was deleted' : released ? `handed back to the queue (${why})` : 'lease lost: another worker owns it now, nothing recorded'}`);
    } else if (end === 'lost') {
      opts.observer?.trialEnded('lease_lost');
      log(`[worker] ${name}: lease lost (token ${token} is stale): another worker owns it now, result discarded`);
    } else {
      finished++;
      const t = await service.getTrial(study.id, trial.id);
      opts.observer?.trialEnded(t.state === 'PRUNED' || t.state === 'FAIL' ? t.state : 'COMPLETE', trainedOn(t.metrics));
      log(`[worker] ${name}: ${t.state}${t.value !== null ? ` ${t.value.toFixed(4)}` : ''}${t.failureReason ? ` (${printable(t.failureReason)})` : ''}`);
    }
    return end;
  };

  let shutdownDone: Promise<void> | undefined;
  const worker = new Worker<TrialJobData>(
    QUEUE_NAME,
    async (job) => {
      active++;
      opts.observer?.busy(1);
      lastBusy = Date.now();
      try {
        const out = await handle(job);
        if (out instanceof Dropped) {
          opts.observer?.trialEnded('dropped');
          return { dropped: out.why };
        }
        return { end: out };
      } catch (err) {
        opts.observer?.trialEnded('error');
        // A version mismatch, a foreign study or a machine that cannot load the data: this worker must stop; the
        // job fails (and is removed), the trial stays WAITING and its coordinator enqueues it for another worker.
        // A backend that cannot start here stops it too, before it fails every trial of the queue in turn.
        const code = (err as { code?: string }).code;
        if (err instanceof ConfigError || code === 'VERSION_MISMATCH' || code === 'INVALID_DATA' || code === 'BACKEND_UNAVAILABLE') {
          fatal ??= err as Error;
          setImmediate(() => void shutdown('fatal'));
          throw new UnrecoverableError((err as Error).message);
        }
        // Anything else (the database cut off mid-trial, a read that failed) fails the job, which BullMQ says to no one:
        // say it here, or a trial's training is lost without a word.
        errors.note(`[worker] job ${job.id} (trial id ${job.data.trialId} of study ${job.data.studyId}) failed here: ${printable((err as Error).message)}; unless its result was recorded, the trial goes back to the queue (at once if it was handed back, else when its lease expires)`);
        throw err;
      } finally {
        active--;
        opts.observer?.busy(-1);
        lastBusy = Date.now();
      }
    },
    { ...WORKER_SETTINGS, connection: bullConnection(opts.redis), prefix: opts.redis.prefix, concurrency: executor.slots, name: owner, autorun: false },
  );
  // The idle clock starts once the queue connection is up: a slow connect (a loaded machine, a far Redis) is not idleness.
  worker.on('ready', () => (lastBusy = Date.now()));
  const errors = new RateLimitedLog(log);
  // A Redis that went away is said by the outage watch (once, then every minute), not by every reconnect error.
  presence.watch(new RedisOutage(log, '[worker]', opts.redis.where, 'trials in training go on (their leases live in the database); new ones arrive once it is back'));
  worker.on('error', (err) => {
    if (!isConnectionError(err)) errors.note(`[worker] queue: ${queueErrorText(err)}`);
  });

  // BullMQ's close() never settles when its blocking connection is reconnecting (Redis away, or back less than its
  // reconnect backoff ago). Once no trial of ours is running, every outcome is in the database and the queue
  // connection holds nothing worth waiting for: after CLOSE_GRACE_MS it is dropped and the worker leaves anyway.
  let abandoned = false;
  let gaveUp: () => void = () => undefined;
  const closedOrAbandoned = new Promise<void>((r) => (gaveUp = r));
  const shutdown = (reason: QueueWorkerResult['reason']): Promise<void> => {
    stopping ??= reason;
    for (const a of running) a.abort();
    if (!shutdownDone) {
      shutdownDone = worker.close().catch(() => undefined);
      let quietSince: number | undefined;
      const watch = setInterval(() => {
        quietSince = active > 0 ? undefined : quietSince ?? Date.now();
        if (quietSince === undefined || Date.now() - quietSince < CLOSE_GRACE_MS) return;
        clearInterval(watch);
        abandoned = true;
        log(`[worker] the queue connection to ${opts.redis.where} did not close within ${CLOSE_GRACE_MS / 1000} s (Redis away or just back); leaving without it: every trial's outcome is in the database`);
        void worker.disconnect().catch(() => undefined);
        gaveUp();
      }, 200);
      void shutdownDone.then(() => clearInterval(watch));
    }
    return shutdownDone;
  };
  opts.signal?.addEventListener('abort', () => void shutdown('signal'), { once: true });
  if (opts.signal?.aborted) void shutdown('signal');

  const leave = await presence.announce('worker', { owner, slots: executor.slots, ...opts.trainsOn });
  opts.observer?.started(owner, executor.slots);
  let lastLook = 0;
  const idleTimer = setInterval(() => {
    const now = Date.now();
    if (active > 0) lastBusy = now;
    if (stopping || idleMs <= 0 || now - lastBusy < idleMs || now - lastLook < 500) return;
    lastLook = now;
    // Our own record first: a Redis that lost it (restarted) lost the coordinators' too, until they announce again.
    void presence.renew().then(async () => presence.forgotRecently() || (await presence.coordinators()).length > 0).then(
      (wait) => (wait ? (lastBusy = Date.now()) : void shutdown('idle')),
      // Redis away for a moment: not proof that nobody will send work.
      () => (lastBusy = Date.now()),
    );
  }, 200);
  idleTimer.unref();

  log(`[worker] ${owner}: ${executor.slots} slot${executor.slots > 1 ? 's' : ''}, queue ${opts.redis.where} prefix '${opts.redis.prefix}', database ${opts.dbWhere}`);
  try {
    // run() resolves once close() has stopped the fetch loop and every processor has returned.
    // A signal during start-up (while announcing) closed the worker already: its 'closed' event has been and gone, and
    // run() after close waited for it for good (a SIGTERM'd worker that never left, found by the final CI).
    const closed = shutdownDone ?? Promise.all([worker.run(), new Promise<void>((r) => worker.once('closed', () => r()))]).then(() => shutdownDone);
    await Promise.race([closed, closedOrAbandoned]);
  } finally {
    clearInterval(idleTimer);
    await leave();
  }
  return { reason: stopping ?? 'idle', finished, ...(fatal ? { error: fatal } : {}), ...(abandoned ? { queueLeftOpen: true } : {}) };
}

/** BullMQ's message, or what it means where it has a known cause. */
export function queueErrorText(err: Error): string {
  // A job's keys vanished under it: its lock expired while this worker was frozen or cut off (and the stall check took
  // it back), or Redis restarted empty or was flushed, while the trial trained.
  if (/^Missing key for job /.test(err.message)) {
    return `${err.message} (the job left the queue while it ran: its lock expired while this worker was frozen or cut off from Redis, or Redis restarted empty or was flushed; its trial's outcome is in the database)`;
  }
  return err.message;
}

/** The same queue error (a lock that vanished with a Redis flush) is said once per 10 s, not once per job per second. */
class RateLimitedLog {
  private readonly last = new Map<string, number>();

  constructor(private readonly log: (line: string) => void) {}

  note(line: string): void {
    const key = line.replace(/\d+/g, '#');
    const now = Date.now();
    if ((this.last.get(key) ?? 0) > now - 10_000) return;
    this.last.set(key, now);
    this.log(line);
  }
}
