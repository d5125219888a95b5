// Who holds a study's ask lock, as the database sees that session, and which holders this process has already
// waited out: a session still idle since the wait for it was given up is not waited for again, so a server suspended
// mid-ask costs the other servers' asks of that study one lock wait, not one per ask until it is resumed.
import type { PoolClient } from 'pg';

/** The session holding a lock, from pg_locks and pg_stat_activity. */
export interface LockHolder {
  pid: number;
  addr: string | null;
  app: string;
  state: string | null;
  /** Seconds since its state last changed: how long an idle holder has done nothing. */
  seconds: number | null;
  /** The session and the moment its state last changed: unchanged while it sits idle holding the lock. */
  identity: string;
}

/** Warnings that a waited-out holder still holds the lock come at most this often per study. */
export const STILL_HELD_WARN_MS = 60_000;

/** The session holding the advisory lock `key` (taken as `pg_advisory_lock(hashtextextended(key, 0))`), if any. */
export async function lockHolder(c: PoolClient, key: string): Promise<LockHolder | null> {
  const r = await c.query({
    name: 'renorm_tune_lock_holder',
    text: `SELECT a.pid, host(a.client_addr) AS addr, a.application_name AS app, a.state,
             round(extract(epoch FROM now() - a.state_change))::int AS seconds,
             a.pid || '@' || a.backend_start::text || '@' || a.state_change::text AS identity
           FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
           WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
             AND ((l.classid::int8 << 32) | l.objid::int8) = hashtextextended($1, 0)`,
    values: [key],
  });
  return (r.rows[0] as LockHolder | undefined) ?? null;
}

/** The lock without waiting: true if this session now holds it. */
export async function tryLock(c: PoolClient, key: string): Promise<boolean> {
  const r = await c.query({ name: 'renorm_tune_try_lock', text: 'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS got', values: [key] });
  return (r.rows[0] as { got: boolean }).got;
}

/** `holder` in a warning's words. */
export function describeHolder(h: LockHolder): string {
  const idle = h.state === 'idle' && h.seconds !== null ? `, idle for ${h.seconds} s: suspended mid-ask, or still computing` : '';
  return `database session ${h.pid} of '${h.app}' at ${h.addr ?? 'a local socket'}${idle}`;
}

/**
 * The holders whose lock wait this process gave up, per study. Only an idle holder is remembered: a session that
 * is running a statement is working, and is waited for each time as usual.
 */
export class WaitedOut {
  private readonly byStudy = new Map<string, { identity: string; warnedAt: number }>();

  /** The waited-out holder's identity for `studyId`, if one is remembered. */
  identity(studyId: string): string | undefined {
    return this.byStudy.get(studyId)?.identity;
  }

  remember(studyId: string, holder: LockHolder | null, now: number): void {
    if (holder?.state === 'idle') this.byStudy.set(studyId, { identity: holder.identity, warnedAt: now });
    else this.byStudy.delete(studyId);
  }

  forget(studyId: string): void {
    this.byStudy.delete(studyId);
  }

  /** Whether to warn again that the remembered holder still holds the lock (at most every STILL_HELD_WARN_MS). */
  warnAgain(studyId: string, now: number): boolean {
    const entry = this.byStudy.get(studyId);
    if (!entry || now - entry.warnedAt < STILL_HELD_WARN_MS) return false;
    entry.warnedAt = now;
    return true;
  }
}
