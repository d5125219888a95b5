// Who is on a queue right now, as `renorm-tune queue` shows it: the coordinators (and their studies) and workers
// (and their slots) that announce themselves in Redis, each marked when it runs another build, and the jobs waiting
// or taken.
import { type Build, THIS_BUILD } from './compat.js';
import { Presence, type CoordinatorPresence, type WorkerPresence } from './presence.js';
import { TrialQueue } from './queue.js';
import type { RedisRef } from './redis.js';

export interface QueueStatus {
  /** The Redis URL, password redacted, and the key prefix. */
  redis: string;
  prefix: string;
  coordinators: (CoordinatorPresence & { otherBuild: boolean })[];
  workers: (WorkerPresence & { otherBuild: boolean })[];
  /** Slots over the workers of this build (those a coordinator of this build hands trials to). */
  slots: number;
  jobs: { waiting: number; active: number; delayed: number };
}

const other = (b: Build) => b.version !== THIS_BUILD.version || b.schema !== THIS_BUILD.schema;

export async function queueStatus(ref: RedisRef): Promise<QueueStatus> {
  const presence = new Presence(ref);
  const queue = new TrialQueue(ref);
  try {
    const [coordinators, workers, jobs] = await Promise.all([presence.coordinators(), presence.workers(), queue.jobCounts()]);
    const byOwner = <T extends { owner: string }>(a: T, b: T) => a.owner.localeCompare(b.owner);
    const marked = workers.map((w) => ({ ...w, otherBuild: other(w) })).sort(byOwner);
    return {
      redis: ref.where,
      prefix: ref.prefix,
      coordinators: coordinators.map((c) => ({ ...c, otherBuild: other(c) })).sort(byOwner),
      workers: marked,
      slots: marked.filter((w) => !w.otherBuild).reduce((n, w) => n + w.slots, 0),
      jobs,
    };
  } finally {
    await presence.close();
    await queue.close();
  }
}

/** The status in words, a line per peer. */
export function queueStatusText(s: QueueStatus): string {
  const build = (b: Build & { otherBuild: boolean }) => `renorm-tune ${b.version}${b.otherBuild ? ` (another build: this is ${THIS_BUILD.version}, schema ${THIS_BUILD.schema}; it is refused)` : ''}`;
  const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;
  const lines = [`queue ${s.redis} prefix '${s.prefix}'`];
  lines.push(`coordinators: ${s.coordinators.length === 0 ? 'none alive' : s.coordinators.length}`);
  for (const c of s.coordinators) lines.push(`  ${c.owner}  study '${c.studyName}' (${c.studyId})  ${build(c)}`);
  lines.push(`workers: ${s.workers.length === 0 ? 'none alive' : `${s.workers.length}, ${plural(s.slots, 'slot')} in all`}`);
  for (const w of s.workers) lines.push(`  ${w.owner}  ${plural(w.slots, 'slot')}  ${build(w)}`);
  lines.push(`jobs: ${s.jobs.waiting} waiting for a worker, ${s.jobs.active} taken${s.jobs.delayed ? `, ${s.jobs.delayed} delayed` : ''}`);
  return `${lines.join('\n')}\n`;
}
