// A study stopped on request (`renorm-tune stop`, POST /api/studies/:id/stop, the Python client's stop()), told apart
// from one stopped because its run was signalled (Ctrl-C; SIGTERM, as at a shutdown). A supervisor that starts the
// run at boot (`run --unless-stopped`, as the systemd unit does) leaves the first stopped until `resume`, and resumes
// the second, like Docker's `unless-stopped` restart policy.
import type { StudyRecord } from './types.js';

/** The study attr holding when it was stopped on request (an ISO time); null once it runs or is resumed again. */
export const STOP_REQUEST = 'stopRequest';

/** When `study` was stopped on request, if it still is; null for a study running, complete, or stopped by a signal. */
export function stopRequestedAt(study: Pick<StudyRecord, 'state' | 'attrs'>): string | null {
  const at = study.attrs[STOP_REQUEST];
  return study.state === 'STOPPED' && typeof at === 'string' ? at : null;
}

/**
 * The attrs that spend `study`'s stop request, to write with its next state (Storage.setStudyState's attrs), or
 * undefined when it has none: `resume` and a run resuming the study lift it.
 */
export function liftedStopRequest(study: Pick<StudyRecord, 'attrs'> | undefined): Record<string, null> | undefined {
  return study?.attrs[STOP_REQUEST] ? { [STOP_REQUEST]: null } : undefined;
}
