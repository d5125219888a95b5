// How every output names a study stopped on request (`renorm-tune stop`, POST .../stop, the Python client's stop(); its
// summary's stopRequestedAt): `show`'s head, the dashboard's study header and the landing page's state badge.
// Browser-safe.
import { CLI } from './names.js';

/**
 * `stopped on request at T (...)`, or null for a study not stopped on request. Only while STOPPED: a
 * page told by a live event that the study runs again has not refetched the summary that says the request is spent.
 */
export function stopRequestText(s: { state: string; stopRequestedAt?: string | null }): string | null {
  return s.state === 'STOPPED' && s.stopRequestedAt
    ? `stopped on request at ${s.stopRequestedAt} (until \`${CLI} resume\` or POST .../resume, a run under --unless-stopped leaves it so)`
    : null;
}
