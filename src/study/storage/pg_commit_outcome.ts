// What became of a write whose connection was lost after it went out and before the answer came back. The database
// still knows: a transaction by its id (txid_status), once the session that ran it has read the COMMIT or noticed that
// its client is gone; a statement that commits on its own by reading back what it wrote, once that session has ended.
import type pg from 'pg';

export type CommitOutcome = 'committed' | 'aborted' | 'unknown';

/**
 * Each pooled connection's server session, as the server names it (pg_backend_pid() when the connection was made).
 * Not the driver's processID: a proxy in between (PgBouncer, among others) hands the client a made-up one, which no
 * session has, so it would look ended at once.
 */
const sessionPids = new WeakMap<object, number>();

/** Notes the server session of a new connection (a pool's onConnect); without it, lost writes are not read back. */
export async function noteSession(c: pg.ClientBase): Promise<void> {
  const pid = await c.query('SELECT pg_backend_pid() AS pid').then((r) => (r.rows[0] as { pid: number }).pid, () => undefined);
  if (pid !== undefined) sessionPids.set(c, pid);
}

/** The server session noted for connection `c`, if any. */
export function sessionOf(c: object): number | undefined {
  return sessionPids.get(c);
}

/** How long to look while the transaction is still in progress (its session has not yet read the COMMIT, or the cut). */
export const OUTCOME_LOOK_MS = 2_000;
const LOOK_EVERY_MS = 50;

/** `BEGIN` (as `begin` spells it) and the new transaction's id, in one round trip. */
export async function beginWithId(c: pg.PoolClient, begin: string): Promise<string> {
  const results = (await c.query(`${begin}; SELECT txid_current()::text AS xid`)) as unknown as pg.QueryResult[];
  return (results[1]!.rows[0] as { xid: string }).xid;
}

/**
 * The outcome of transaction `xid`, asked on another connection (`query`, e.g. the pool's): committed, aborted
 * (nothing it wrote stays), or unknown when the database cannot be asked, or the transaction is still in progress
 * after `lookMs` (a session whose client vanished without a word stays open until TCP gives up on it).
 */
export async function commitOutcome(query: (text: string, values: unknown[]) => Promise<pg.QueryResult>, xid: string, lookMs = OUTCOME_LOOK_MS): Promise<CommitOutcome> {
  const until = Date.now() + lookMs;
  for (;;) {
    let status: string | null;
    try {
      status = ((await query('SELECT txid_status($1::bigint) AS status', [xid])).rows[0] as { status: string | null }).status;
    } catch {
      return 'unknown';
    }
    if (status === 'committed' || status === 'aborted') return status;
    if (status !== 'in progress' || Date.now() >= until) return 'unknown';
    await new Promise((r) => setTimeout(r, LOOK_EVERY_MS));
  }
}

/**
 * Whether database session `pid` has ended within `lookMs` (asked through `query`): after that nothing it ran can
 * still commit, so a statement it was sent that commits on its own has either landed or not, for a read to say.
 * false when it lives on (a client gone without a word) or the database cannot be asked.
 */
export async function sessionEnded(query: (text: string, values: unknown[]) => Promise<pg.QueryResult>, pid: number, lookMs = OUTCOME_LOOK_MS): Promise<boolean> {
  const until = Date.now() + lookMs;
  for (;;) {
    try {
      if ((await query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rowCount === 0) return true;
    } catch {
      return false;
    }
    if (Date.now() >= until) return false;
    await new Promise((r) => setTimeout(r, LOOK_EVERY_MS));
  }
}
