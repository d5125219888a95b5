// Who is on a queue right now, as `renorm-tune queue` shows it: the coordinators (and their studies) and workers
// (and their slots) that announce themselves in Redis, each marked when it runs another build, and the jobs waiting
// or taken.
import type { Storage, TrialRecord } from '../study/types.js';
import { type Build, THIS_BUILD } from './compat.js';
import { Presence, type CoordinatorPresence, type WorkerPresence } from './presence.js';
import { TrialQueue } from './queue.js';
import type { RedisRef } from './redis.js';
import { heldText, trainsOnText } from '../shared/queue_text.js';

/** A RUNNING trial of a coordinated study, as the database has it. */
export interface HeldTrial {
  studyName: string;
  studyId: string;
  number: number;
  role: TrialRecord['role'];
  /** Its lease's owner: a worker's `host:pid:worker-xxxxxx`. */
  owner: string;
  startedAt: string | null;
  /** When the lease runs out unless renewed (by the database's clock). */
  leaseExpiresAt: string;
  /** The last step it reported, null before the first report. */
  lastStep: number | null;
}

export interface QueueStatus {
  /** The Redis URL, password redacted, and the key prefix. */
  redis: string;
  prefix: string;
  /** `inDatabase`, with a database: whether it holds the coordinator's study (false: the coordinator runs on another one). */
  coordinators: (CoordinatorPresence & { otherBuild: boolean; inDatabase?: boolean })[];
  /** With a database: `training` lists the trials each worker holds a lease on. */
  workers: (WorkerPresence & { otherBuild: boolean; training?: HeldTrial[] })[];
  /** With a database: RUNNING trials whose lease owner is no live worker (gone, frozen, or on another queue). */
  orphans?: HeldTrial[];
  /** Slots over the workers of this build (those a coordinator of this build hands trials to). */
  slots: number;
  jobs: { waiting: number; active: number; delayed: number };
}

const other = (b: Build) => b.version !== THIS_BUILD.version || b.schema !== THIS_BUILD.schema;

/**
 * A queue watched over its own two connections, kept open between looks: `serve --redis` looks every few seconds for
 * the dashboard, `renorm-tune queue` once (queueStatus).
 */
export class QueueWatch {
  private readonly presence: Presence;
  private readonly queue: TrialQueue;
  private jobsRead: Promise<QueueStatus['jobs']> | undefined;

  constructor(readonly ref: RedisRef) {
    this.presence = new Presence(ref);
    this.queue = new TrialQueue(ref);
  }

  /**
   * The queue's peers and jobs; given the database the coordinators' studies live in, also the trials each worker
   * trains and those held by no live worker.
   */
  async status(storage?: Storage): Promise<QueueStatus> {
    const [coordinators, workers, jobs] = await Promise.all([this.presence.coordinators(), this.presence.workers(), this.jobCounts()]);
    const byOwner = <T extends { owner: string }>(a: T, b: T) => a.owner.localeCompare(b.owner);
    const marked: QueueStatus['workers'] = workers.map((w) => ({ ...w, otherBuild: other(w) })).sort(byOwner);
    const status: QueueStatus = {
      redis: this.ref.where,
      prefix: this.ref.prefix,
      coordinators: coordinators.map((c) => ({ ...c, otherBuild: other(c) })).sort(byOwner),
      workers: marked,
      slots: marked.filter((w) => !w.otherBuild).reduce((n, w) => n + w.slots, 0),
      jobs,
    };
    if (storage) {
      for (const c of status.coordinators) c.inDatabase = (await storage.getStudy(c.studyId)) !== undefined;
      const held = await heldTrials(storage, coordinators);
      for (const w of marked) w.training = held.filter((t) => t.owner === w.owner);
      const live = new Set(marked.map((w) => w.owner));
      status.orphans = held.filter((t) => !live.has(t.owner));
    }
    return status;
  }

  /**
   * The job counts, one read at a time: while Redis is away BullMQ's client holds a command until it is back, and a
   * look that left one behind each time (serve looks every few seconds; presence fails fast) would pile them up.
   */
  private jobCounts(): Promise<QueueStatus['jobs']> {
    this.jobsRead ??= this.queue.jobCounts().finally(() => (this.jobsRead = undefined));
    return this.jobsRead;
  }

  async close(): Promise<void> {
    await this.presence.close();
    await this.queue.close();
  }
}

/** One look at a queue (QueueWatch.status), its connections closed after. */
export async function queueStatus(ref: RedisRef, storage?: Storage): Promise<QueueStatus> {
  const watch = new QueueWatch(ref);
  try {
    return await watch.status(storage);
  } finally {
    await watch.close();
  }
}

/** The RUNNING trials of the coordinators' studies (each study once), in study then trial order. */
async function heldTrials(storage: Storage, coordinators: readonly CoordinatorPresence[]): Promise<HeldTrial[]> {
  const studies = new Map(coordinators.map((c) => [c.studyId, c.studyName]));
  const out: HeldTrial[] = [];
  for (const [studyId, studyName] of studies) {
    for (const t of await storage.listTrials(studyId, { states: ['RUNNING'] })) {
      if (!t.lease) continue;
      out.push({
        studyName, studyId, number: t.number, role: t.role, owner: t.lease.owner, startedAt: t.startedAt,
        leaseExpiresAt: t.lease.expiresAt, lastStep: t.intermediate.at(-1)?.step ?? null,
      });
    }
  }
  return out;
}

/** The status in words, a line per peer. */
export function queueStatusText(s: QueueStatus): string {
  const build = (b: Build & { otherBuild: boolean }) => `renorm-tune ${b.version}${b.otherBuild ? ` (another build: this is ${THIS_BUILD.version}, schema ${THIS_BUILD.schema}; it is refused)` : ''}`;
  const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;
  const lines = [`queue ${s.redis} prefix '${s.prefix}'`];
  lines.push(`coordinators: ${s.coordinators.length === 0 ? 'none alive' : s.coordinators.length}`);
  for (const c of s.coordinators) {
    const elsewhere = c.inDatabase === false ? '  (not in the --db given: it runs on another database)' : '';
    lines.push(`  ${c.owner}  study '${c.studyName}' (${c.studyId})  ${build(c)}${elsewhere}`);
  }
  lines.push(`workers: ${s.workers.length === 0 ? 'none alive' : `${s.workers.length}, ${plural(s.slots, 'slot')} in all`}`);
  for (const w of s.workers) {
    const on = trainsOnText(w);
    lines.push(`  ${w.owner}  ${plural(w.slots, 'slot')}  ${on ? `${on}  ` : ''}${build(w)}`);
    if (w.training) lines.push(`    ${w.training.length === 0 ? 'training nothing' : `training ${w.training.map(heldText).join('; ')}`}`);
  }
  if (s.orphans && s.orphans.length > 0) {
    lines.push(`trials held by no live worker (gone or frozen: each goes back to the queue when its lease runs out): ${s.orphans.length}`);
    for (const t of s.orphans) lines.push(`  ${heldText(t)}, lease of ${t.owner} until ${t.leaseExpiresAt}`);
  }
  lines.push(`jobs: ${s.jobs.waiting} waiting for a worker, ${s.jobs.active} taken${s.jobs.delayed ? `, ${s.jobs.delayed} delayed` : ''}`);
  return `${lines.join('\n')}\n`;
}
