// The trial queue on Redis (BullMQ): transport only. A job says "run trial T of study S, round R"; the database lease decides who runs it.
import { Queue, QueueEvents, type WorkerOptions } from 'bullmq';
import type { TrialRecord } from '../study/types.js';
import { type Build, isBuild, THIS_BUILD } from './compat.js';
import { bullConnection, type RedisRef } from './redis.js';

/**
 * One queue per database (per `--redis-prefix`), not per study: a worker has a `--db` and no study argument, so it
 * serves whatever its database's coordinators enqueue, from one FIFO, with one blocking connection and one
 * `--concurrency`. Two databases sharing a Redis server need two prefixes (a worker handed a study its database
 * does not hold says so and stops).
 */
export const QUEUE_NAME = 'trials';

/**
 * How long closing waits for BullMQ before leaving without it: its close() never settles when a connection is
 * reconnecting (Redis away, or back less than its reconnect backoff ago). By then every outcome is in the database.
 */
export const CLOSE_GRACE_MS = 5_000;

/** What a job carries: which trial, which round of it, and the coordinator's build. Never the trial's params: those live in the database. */
export interface TrialJobData extends Build {
  studyId: string;
  trialId: number;
  /**
   * The trial's `retries` when it was enqueued. A reaped lease bumps it, so the requeued trial gets a new job id;
   * a job whose round is behind the trial's is a leftover of an earlier round and is dropped.
   */
  round: number;
}

/**
 * Same trial, same round, same id: BullMQ ignores an add whose id exists, so a restarted coordinator, a second
 * coordinator or a re-enqueue after a Redis flush can never queue a trial twice. (BullMQ ids may not contain ':'.)
 */
export function jobIdOf(studyId: string, trial: Pick<TrialRecord, 'id' | 'retries'>): string {
  return `${studyId}.${trial.id}.${trial.retries}`;
}

/** Job data from Redis, checked: a string says what is wrong with it. */
export function parseJobData(raw: unknown): TrialJobData | string {
  const d = raw as TrialJobData;
  if (!d || typeof d !== 'object') return 'not an object';
  if (typeof d.studyId !== 'string' || !d.studyId) return 'no studyId';
  if (!Number.isInteger(d.trialId) || !Number.isInteger(d.round)) return 'no trialId/round';
  if (!isBuild(d)) return 'no version/schema';
  return d;
}

/**
 * BullMQ's own redelivery is switched off: with maxStalledCount 0 a job whose worker stopped renewing its lock
 * (the process died) is failed, never handed to a second worker. Recovery belongs to the database lease: the
 * coordinator reaps the expired lease (retries + 1) and enqueues the trial again under a new job id. Even a
 * redelivered job could not train twice, since a worker trains only after its own WAITING -> RUNNING claim.
 */
export const WORKER_SETTINGS: Pick<WorkerOptions, 'maxStalledCount' | 'lockDuration' | 'stalledInterval' | 'drainDelay' | 'removeOnComplete' | 'removeOnFail'> = {
  maxStalledCount: 0,
  // Trials train off the event loop (threads or child processes), so renewals are never starved; a short lock
  // only frees the job id of a worker that died between taking a job and claiming its trial sooner.
  lockDuration: 15_000,
  stalledInterval: 5_000,
  // Seconds a blocked fetch waits before looping; new jobs wake it at once, and close() interrupts it.
  drainDelay: 1,
  removeOnComplete: { count: 0 },
  removeOnFail: { count: 0 },
};

/** The coordinator's end of the queue: idempotent enqueues and a wake-up when any job settles. */
export class TrialQueue {
  private readonly queue: Queue<TrialJobData>;
  private events: QueueEvents | undefined;

  /** The Redis URL, password redacted. */
  get where(): string {
    return this.ref.where;
  }

  constructor(private readonly ref: RedisRef) {
    this.queue = new Queue<TrialJobData>(QUEUE_NAME, {
      connection: bullConnection(ref),
      prefix: ref.prefix,
      // Finished jobs are forgotten at once: the database holds the outcome, and a free id lets a released trial
      // (same round) be enqueued again.
      defaultJobOptions: { removeOnComplete: true, removeOnFail: true, attempts: 1 },
    });
    this.queue.on('error', () => undefined);
  }

  /** Adds a job per trial (in the order given) unless its id is already queued or running; one round trip. */
  async enqueue(studyId: string, trials: readonly TrialRecord[]): Promise<void> {
    if (trials.length === 0) return;
    await this.queue.addBulk(trials.map((t) => ({
      name: 'trial',
      data: { studyId, trialId: t.id, round: t.retries, ...THIS_BUILD },
      opts: { jobId: jobIdOf(studyId, t) },
    })));
  }

  /** Jobs waiting for a worker (not yet taken). */
  async waitingCount(): Promise<number> {
    return this.queue.getWaitingCount();
  }

  /** Jobs by state: waiting for a worker (prioritized ones included), taken by one, delayed. */
  async jobCounts(): Promise<{ waiting: number; active: number; delayed: number }> {
    const c = await this.queue.getJobCounts('wait', 'prioritized', 'active', 'delayed');
    return { waiting: (c.wait ?? 0) + (c.prioritized ?? 0), active: c.active ?? 0, delayed: c.delayed ?? 0 };
  }

  /** Calls `listener` whenever a job completes or fails (a slot freed somewhere): the coordinator's cue to look again. */
  onSettled(listener: () => void): void {
    if (!this.events) {
      this.events = new QueueEvents(QUEUE_NAME, { connection: bullConnection(this.ref), prefix: this.ref.prefix });
      this.events.on('error', () => undefined);
    }
    this.events.on('completed', listener);
    this.events.on('failed', listener);
  }

  /**
   * Closes both connections. False when they had not closed within `graceMs`: they are left to go, since they hold
   * nothing the database does not; a client still reconnecting to a Redis that is away keeps the event loop alive,
   * so a process that closes one ends itself (the coordinator, worker and serve do).
   */
  async close(graceMs = CLOSE_GRACE_MS): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((r) => (timer = setTimeout(() => r(false), graceMs)));
    try {
      return await Promise.race([Promise.allSettled([this.events?.close(), this.queue.close()]).then(() => true), late]);
    } finally {
      clearTimeout(timer);
    }
  }
}
