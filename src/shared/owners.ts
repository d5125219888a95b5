// The lease owner of trials handed to outside trainers over ask/tell: `external`, or `external:<askId>` for an ask
// that names itself. Browser-safe: the dashboard tells such leases from a worker's (`host:pid:worker-xxxxxx`).

/** The owner name of outside trainers' leases (they are identified by their token, not their process). */
export const EXTERNAL_OWNER = 'external';

/** Whether `owner` is an outside trainer's ask rather than a process of ours (a worker, a local run). */
export function isExternalOwner(owner: string): boolean {
  return owner === EXTERNAL_OWNER || owner.startsWith(`${EXTERNAL_OWNER}:`);
}

/** What a process of ours says of itself in its owner name, `host:pid:role-nonce` (see processOwner). */
export interface ProcessOwner {
  host: string;
  pid: number;
  /** `worker` (a queue worker) or `run` (a study run on one machine); `coordinator` never holds a lease. */
  role: string;
  /** The 8 hex digits naming its machine's boot and PID namespace (study/owner.ts pidSpace), in names that carry them. */
  space?: string;
}

/** The parts of a process's owner name, or nothing for an outside trainer's or another name a library caller gave (`owner` in the runner's or worker's options). */
export function processOwnerParts(owner: string): ProcessOwner | undefined {
  const m = /^(.+):(\d+):([a-z]+)-([0-9a-f]+)$/.exec(owner);
  if (!m) return undefined;
  const nonce = m[4]!;
  return { host: m[1]!, pid: Number(m[2]), role: m[3]!, ...(nonce.length === 14 ? { space: nonce.slice(0, 8) } : {}) };
}
