// A PostgreSQL session whose client vanished without closing it (a server host lost to a network partition) keeps
// its locks until the database gives up on it: every pooled session, the study locks' included, asks it to do so
// within about a minute rather than after Linux's two hours. (The giving up itself is PostgreSQL's, over TCP: it
// needs a real partition, which no test here can make.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { PgStorage } from '../../../src/study/storage/postgres.js';
import { createTestDatabase } from '../../fixtures/pg.js';

const db = await createTestDatabase('keepalive');

test('every pooled session, for queries and for study locks, sets TCP keepalives of 30 s idle, 10 s apart, 3 probes', { skip: 'unavailable' in db ? db.unavailable : false }, async () => {
  if ('unavailable' in db) return;
  const storage = await PgStorage.connect(db.url);
  try {
    const pools = storage as unknown as { pool: pg.Pool; lockPool: pg.Pool };
    for (const [what, pool] of [['queries', pools.pool], ['study locks', pools.lockPool]] as const) {
      const r = await pool.query(`SELECT current_setting('tcp_keepalives_idle') AS idle, current_setting('tcp_keepalives_interval') AS every,
        current_setting('tcp_keepalives_count') AS count`);
      assert.deepEqual(r.rows[0], { idle: '30', every: '10', count: '3' }, what);
    }
  } finally {
    await storage.close();
    await db.drop();
  }
});
