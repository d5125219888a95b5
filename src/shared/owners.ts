// The lease owner of trials handed to outside trainers over ask/tell: `external`, or `external:<askId>` for an ask
// that names itself. Browser-safe: the dashboard tells such leases from a worker's (`host:pid:worker-xxxxxx`).

/** The owner name of outside trainers' leases (they are identified by their token, not their process). */
export const EXTERNAL_OWNER = 'external';

/** Whether `owner` is an outside trainer's ask rather than a process of ours (a worker, a local run). */
export function isExternalOwner(owner: string): boolean {
  return owner === EXTERNAL_OWNER || owner.startsWith(`${EXTERNAL_OWNER}:`);
}
