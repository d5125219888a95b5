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
