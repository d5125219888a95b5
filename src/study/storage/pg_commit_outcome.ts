// What became of a write transaction whose COMMIT went out on a connection lost before the answer came back: the
// database still knows, by the transaction's id (txid_status), once the session that ran it has read the COMMIT or
// noticed that its client is gone.
import type pg from 'pg';

export type CommitOutcome = 'committed' | 'aborted' | 'unknown';

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
