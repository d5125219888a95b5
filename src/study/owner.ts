// Who holds a lease: `host:pid:nonce` for processes of ours, so a restart on the same host can tell a dead holder from a live one.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { EXTERNAL_OWNER } from '../shared/owners.js';

export { EXTERNAL_OWNER };

/**
 * The owner of the leases one ask hands out: `external`, or `external:<askId>` for an ask that names itself, so
 * that the same ask sent again (its answer lost when the server restarted mid-call) finds what it was given.
 */
export function askOwner(askId?: string): string {
  return askId === undefined ? EXTERNAL_OWNER : `${EXTERNAL_OWNER}:${askId}`;
}

/** A fresh owner name for this process (one per runner or worker, so two in one process stay apart); processOwnerParts reads it back. */
export function processOwner(role: string): string {
  return `${hostname()}:${process.pid}:${role}-${randomBytes(3).toString('hex')}`;
}

/**
 * Owners among `owners` that ran on this host in a process that no longer exists: their leases are void now,
 * without waiting for them to expire (a `run` killed with SIGKILL and started again). Other hosts' owners are
 * judged by lease expiry alone.
 */
export function deadLocalOwners(owners: Iterable<string>, host = hostname()): string[] {
  const dead = new Set<string>();
  for (const owner of owners) {
    const [h, pidText] = owner.split(':');
    const pid = Number(pidText);
    if (h !== host || !Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) continue;
    if (!processAlive(pid)) dead.add(owner);
  }
  return [...dead];
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but is not ours to signal; only ESRCH proves it is gone.
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}
