// Who holds a lease: `host:pid:role-nonce` for processes of ours, so a restart on the same host can tell a dead holder from a live one.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { EXTERNAL_OWNER, processOwnerParts } from '../shared/owners.js';

export { EXTERNAL_OWNER };

/**
 * The owner of the leases one ask hands out: `external`, or `external:<askId>` for an ask that names itself, so
 * that the same ask sent again (its answer lost when the server restarted mid-call) finds what it was given.
 */
export function askOwner(askId?: string): string {
  return askId === undefined ? EXTERNAL_OWNER : `${EXTERNAL_OWNER}:${askId}`;
}

let space: string | undefined;

/**
 * 8 hex digits naming the pids this process can see: its kernel's boot and its PID namespace (Linux; elsewhere the
 * host name alone). A hostname says too little: cloned machines share one, and a container on the host's network (or
 * another PID namespace) shares the host's, while its pid 57 is not the host's pid 57. Only an owner of the same
 * space can be judged by its pid; one of another was reaped as dead while it trained, every trial failing.
 */
export function pidSpace(): string {
  if (space === undefined) {
    const read = (f: () => string) => {
      try {
        return f();
      } catch {
        return '';
      }
    };
    const boot = read(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
    const ns = read(() => readlinkSync('/proc/self/ns/pid'));
    space = createHash('sha256').update(`${hostname()}\n${boot}\n${ns}`).digest('hex').slice(0, 8);
  }
  return space;
}

/**
 * A fresh owner name for this process (one per runner or worker, so two in one process stay apart), its nonce led by
 * its pidSpace; processOwnerParts reads it back.
 */
export function processOwner(role: string): string {
  return `${hostname()}:${process.pid}:${role}-${pidSpace()}${randomBytes(3).toString('hex')}`;
}

/**
 * Owners among `owners` that ran on this host, in this pidSpace, in a process that no longer exists: their leases
 * are void now, without waiting for them to expire (a `run` killed with SIGKILL and started again). Other hosts'
 * and other spaces' owners are judged by lease expiry alone, as are owners named before the nonce carried the space
 * (6 hex digits), whose host may be another one of the same name.
 */
export function deadLocalOwners(owners: Iterable<string>, host = hostname(), here = pidSpace()): string[] {
  const dead = new Set<string>();
  for (const owner of owners) {
    const parts = processOwnerParts(owner);
    if (!parts || parts.host !== host || parts.space !== here) continue;
    const { pid } = parts;
    if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) continue;
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
