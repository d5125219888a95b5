// A job for a study the worker's database does not hold: deleted, or another database's. Only time tells them apart.
import { type CoordinatorPresence, type Presence } from './presence.js';

/**
 * How long a coordinator's record may outlive its study before the worker concludes the coordinator runs it in
 * another database. A killed coordinator's record expires within its TTL (10 s, presence.ts); a live one whose
 * study was deleted leaves (removing its record) at its next pass, which can wait for an ask on a large study. 30 s
 * is past both, and a worker given the wrong --db still stops within it.
 */
export const FOREIGN_AFTER_MS = 30_000;

export interface MissingStudyOptions {
  /** Default FOREIGN_AFTER_MS. */
  foreignAfterMs?: number;
  /** Looks at the coordinators this often (default 500 ms). */
  everyMs?: number;
  /** True once the worker is stopping: the answer is then "gone" (the job is dropped, the trial stays WAITING). */
  stopping?: () => boolean;
  /** Called once, when the first look finds a coordinator announcing the study (the caller says it waits). */
  onWait?: (coordinator: CoordinatorPresence) => void;
}

/**
 * Who runs `studyId`, which this worker's database does not hold: undefined when nobody does (a deleted study's
 * leftover jobs, or jobs its coordinator enqueued just before it saw the deletion), or the coordinator that still
 * announces it FOREIGN_AFTER_MS later: it runs the study in another database, so this worker has the wrong one.
 * A coordinator that was killed or left after a deletion must not stop the workers serving other studies.
 */
export async function whoRunsMissing(presence: Presence, studyId: string, opts: MissingStudyOptions = {}): Promise<CoordinatorPresence | undefined> {
  const deadline = Date.now() + (opts.foreignAfterMs ?? FOREIGN_AFTER_MS);
  const everyMs = opts.everyMs ?? 500;
  for (let first = true; ; first = false) {
    const coordinator = (await presence.coordinators()).find((c) => c.studyId === studyId);
    if (!coordinator || opts.stopping?.()) return undefined;
    if (Date.now() >= deadline) return coordinator;
    if (first) opts.onWait?.(coordinator);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
