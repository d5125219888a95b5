// What became of a write whose connection was lost after it went out and before the answer came back. The database
// still knows: a transaction by its id (txid_status), once the session that ran it has read the COMMIT or noticed that
// its client is gone; a statement that commits on its own by reading back what it wrote, once that session has ended.
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';

/** A statement on another connection than the lost one (the pool's). */
type Query = (text: string, values: unknown[]) => Promise<pg.QueryResult>;

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
 * The first answer `look` gives that is not undefined, asked every LOOK_EVERY_MS for up to `lookMs`; `otherwise` when
 * the time runs out or the database cannot be asked.
 */
async function lookUntil<T>(lookMs: number, otherwise: T, look: () => Promise<T | undefined>): Promise<T> {
  const until = Date.now() + lookMs;
  for (;;) {
    let seen: T | undefined;
    try {
      seen = await look();
    } catch {
      return otherwise;
    }
    if (seen !== undefined) return seen;
    if (Date.now() >= until) return otherwise;
    await sleep(LOOK_EVERY_MS);
  }
}

/**
 * The outcome of transaction `xid`, asked on another connection (`query`, e.g. the pool's): committed, aborted
 * (nothing it wrote stays), or unknown when the database cannot be asked, or the transaction is still in progress
 * after `lookMs` (a session whose client vanished without a word stays open until TCP gives up on it).
 */
export async function commitOutcome(query: Query, xid: string, lookMs = OUTCOME_LOOK_MS): Promise<CommitOutcome> {
  return lookUntil<CommitOutcome>(lookMs, 'unknown', async () => {
    const status = ((await query('SELECT txid_status($1::bigint) AS status', [xid])).rows[0] as { status: string | null }).status;
    if (status === 'committed' || status === 'aborted') return status;
    // null: an id older than the commit log keeps, which cannot be ours.
    return status === 'in progress' ? undefined : 'unknown';
  });
}

/**
 * Whether database session `pid` has ended within `lookMs` (asked through `query`): after that nothing it ran can
 * still commit, so a statement it was sent that commits on its own has either landed or not, for a read to say.
 * false when it lives on (a client gone without a word) or the database cannot be asked.
 */
export async function sessionEnded(query: Query, pid: number, lookMs = OUTCOME_LOOK_MS): Promise<boolean> {
  return lookUntil(lookMs, false, async () => ((await query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rowCount === 0 ? true : undefined));
}
