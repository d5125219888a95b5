// Looking up a write transaction whose COMMIT's answer was lost: PostgreSQL's own txid_status is the reference, on
// transactions another session commits, rolls back, or leaves open.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { beginWithId, commitOutcome, sessionEnded } from '../../../src/study/storage/pg_commit_outcome.js';
import { createTestDatabase, withPgClient } from '../../fixtures/pg.js';

const answer = (status: string | null) => ({ rows: [{ status }] }) as unknown as pg.QueryResult;

it('on PostgreSQL: a committed transaction is committed, a rolled-back one aborted, an open one unknown once the look is over', { timeout: 30_000 }, async (t) => {
  const db = await createTestDatabase('outcomelookup');
  if ('unavailable' in db) return t.skip(db.unavailable);
  try {
    await withPgClient(db.url, (other) => withPgClient(db.url, async (session) => {
      const ask = (text: string, values: unknown[]) => other.query(text, values);
      const c = session as unknown as pg.PoolClient;
      await session.query('CREATE TABLE t (x int)');
      let xid = await beginWithId(c, 'BEGIN');
      assert.match(xid, /^\d+$/);
      await session.query('INSERT INTO t VALUES (1)');
      assert.equal(await commitOutcome(ask, xid, 100), 'unknown', 'still open after the look');
      await session.query('COMMIT');
      assert.equal(await commitOutcome(ask, xid), 'committed');

      xid = await beginWithId(c, 'BEGIN');
      await session.query('INSERT INTO t VALUES (2)');
      await session.query('ROLLBACK');
      assert.equal(await commitOutcome(ask, xid), 'aborted');

      // Committed while the lookup waits: found committed, not given up.
      xid = await beginWithId(c, 'BEGIN');
      await session.query('INSERT INTO t VALUES (3)');
      const looking = commitOutcome(ask, xid, 20_000);
      await new Promise((r) => setTimeout(r, 200));
      await session.query('COMMIT');
      assert.equal(await looking, 'committed');
      assert.deepEqual((await other.query('SELECT x FROM t ORDER BY x')).rows, [{ x: 1 }, { x: 3 }]);
    }));
  } finally {
    await db.drop();
  }
});

it('a lookup that cannot reach the database, or gets no status, is unknown; one in progress is asked again until it ends', async () => {
  assert.equal(await commitOutcome(() => Promise.reject(new Error('ECONNREFUSED')), '5'), 'unknown');
  assert.equal(await commitOutcome(() => Promise.resolve(answer(null)), '5'), 'unknown', 'an id too old for the commit log');
  const seen: string[] = [];
  const statuses = ['in progress', 'in progress', 'aborted'];
  assert.equal(await commitOutcome((text, values) => {
    seen.push(`${text} ${String(values)}`);
    return Promise.resolve(answer(statuses[seen.length - 1]!));
  }, '42'), 'aborted');
  assert.deepEqual(seen, Array(3).fill('SELECT txid_status($1::bigint) AS status 42'));
});

it('on PostgreSQL: a session still open has not ended once the look is over; one closed has', { timeout: 30_000 }, async (t) => {
  const db = await createTestDatabase('sessionend');
  if ('unavailable' in db) return t.skip(db.unavailable);
  try {
    await withPgClient(db.url, async (other) => {
      const ask = (text: string, values: unknown[]) => other.query(text, values);
      const pid = await withPgClient(db.url, async (session) => {
        const own = ((await session.query('SELECT pg_backend_pid() AS pid')).rows[0] as { pid: number }).pid;
        assert.equal(await sessionEnded(ask, own, 100), false);
        return own;
      });
      assert.equal(await sessionEnded(ask, pid, 20_000), true, 'the session ends once its client closed');
      assert.equal(await sessionEnded(() => Promise.reject(new Error('ECONNREFUSED')), pid), false, 'a database that cannot be asked says nothing');
    });
  } finally {
    await db.drop();
  }
});
