// A trial's attempts: when its curve starts over, and which of two records of it is the later. A trial handed back
// or requeued starts a new attempt; a finished one is final.
//
// When a trial's curve starts over. A trial handed back (release) or requeued (its lease expired) loses its reports
// in the store, and its next claim is a new attempt with a new lease token and start time: a viewer that kept the
// old points would show them, and would take the new attempt's first report of a step for a repeat.

interface AttemptFields {
  state: string;
  startedAt: string | null;
  lease: { token: number } | null;
}

/** Whether `now` is a later attempt than `was` (its curve starts over), or back in the queue with no curve at all. */
export function curveRestarted(was: AttemptFields | undefined, now: AttemptFields): boolean {
  if (now.state === 'WAITING') return true;
  if (!was) return false;
  if (was.lease && now.lease && was.lease.token !== now.lease.token) return true;
  return was.startedAt !== null && now.startedAt !== null && was.startedAt !== now.startedAt;
}

/** The states a trial ends in: none is ever left. */
export const FINISHED_STATES = ['COMPLETE', 'PRUNED', 'FAIL'] as const;

export function isFinished(state: string): boolean {
  return (FINISHED_STATES as readonly string[]).includes(state);
}

/** The states of a trial still open: queued (WAITING) or out with a worker or trainer (RUNNING). */
export const OPEN_STATES = ['WAITING', 'RUNNING'] as const;

export function isOpen(state: string): boolean {
  return (OPEN_STATES as readonly string[]).includes(state);
}

interface ProgressFields {
  state: string;
  retries: number;
  claims: number;
  pruneRequested: boolean;
}

/**
 * Whether `a` shows the trial as it was before `b` (a read, or an event, overtaken by a later one): finished is final,
 * a requeue counts a retry, each claim counts one more claim (its fencing token), a claim's lease ends (a hand-back,
 * a requeue) after it began, and a prune request is never taken back. Where the records cannot tell, false.
 */
export function olderThan(a: ProgressFields, b: ProgressFields): boolean {
  if (isFinished(b.state)) return !isFinished(a.state);
  if (a.retries !== b.retries) return a.retries < b.retries;
  if (a.claims !== b.claims) return a.claims < b.claims;
  if (a.state !== b.state) return a.state === 'RUNNING' && b.state === 'WAITING';
  return !a.pruneRequested && b.pruneRequested;
}
