// PostgreSQL storage behind PgBouncer, the pooler production deployments put in front of PostgreSQL: the whole
// conformance suite through session mode (supported), and transaction mode refused with the fix named, nothing
// written (unsupported: named statements, study locks and notifications are per session), and TLS to a pooler that
// takes only encrypted connections. Needs the `pgbouncer` binary (.ci/run installs it), `openssl` for the TLS one,
// and the server in $RENORM_TUNE_TEST_PG; without them the tests are skipped.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../src/errors.js';
import { StoragePoolerError } from '../../../src/study/errors.js';
import { PG_PAGE_TRIALS, PgStorage } from '../../../src/study/storage/postgres.js';
import { SCHEMA } from '../../../src/study/storage/pg_migrations.js';
import { storageConformance } from './conformance.js';
import { createTestDatabase, withPgClient } from '../../fixtures/pg.js';
import { type PgBouncer, startPgBouncer } from '../../fixtures/pgbouncer.js';
import { makeCert, opensslMissing } from '../../fixtures/certs.js';

const db = await createTestDatabase('pgbouncer');
const started = async (mode: 'session' | 'transaction'): Promise<PgBouncer | { unavailable: string }> =>
  'unavailable' in db ? db : startPgBouncer(mode, db.name);
const session = await started('session');
const transaction = await started('transaction');
const certDir = mkdtempSync(join(tmpdir(), 'renorm-pgbouncer-tls-'));
const cert = opensslMissing ? undefined : makeCert(certDir, 'pgbouncer-tls');
const tls = 'unavailable' in db ? db : cert ? await startPgBouncer('session', db.name, { tls: cert }) : { unavailable: opensslMissing as string };
after(async () => {
  for (const p of [session, transaction, tls]) if (!('unavailable' in p)) await p.close();
  if (!('unavailable' in db)) await db.drop();
  rmSync(certDir, { recursive: true, force: true });
});
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const resetSchema = () => ('unavailable' in db ? Promise.resolve() : withPgClient(db.url, (c) => c.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`)));

if ('unavailable' in session || 'unavailable' in db) {
  describe('Storage conformance: PgStorage through PgBouncer (session mode)', () => {
    it('runs the conformance suite through the pooler', { skip: 'unavailable' in session ? session.unavailable : 'no database' }, () => {});
  });
} else {
  const url = session.url(db.name);
  storageConformance('PgStorage through PgBouncer (session mode)', async () => {
    await resetSchema();
    const storage = await PgStorage.connect(url);
    return { storage, advance: sleep, second: async () => PgStorage.connect(url), pageTrials: PG_PAGE_TRIALS };
  });
}

describe('PgStorage through PgBouncer in transaction mode', () => {
  const skip = 'unavailable' in transaction ? transaction.unavailable : false;
  it('answers the first statement that lands in another session 503, naming pool_mode = session, and writes nothing for it', { skip }, async () => {
    if ('unavailable' in transaction || 'unavailable' in db) return;
    await resetSchema();
    // Migrations run in one transaction, so connecting works; the named statements of later calls then meet
    // server sessions that never prepared them (or already did).
    const store = await PgStorage.connect(transaction.url(db.name));
    const refused: StoragePoolerError[] = [];
    const created: string[] = [];
    const attempt = async (name: string) => {
      try {
        await store.createStudy({ name, direction: 'maximize', config: { name } });
        created.push(name);
      } catch (err) {
        assert.ok(err instanceof StoragePoolerError, `only the pooler's refusal, not ${String(err)}`);
        refused.push(err);
      }
    };
    try {
      // The first create prepares its statement in the server session the pooler hands it. Another client then holds
      // that session in a transaction (the pooler hands out its most recently used one), so the next create runs in
      // a session that never prepared it, as a busy pooler would do at random. A quiet one hands every transaction
      // the same session: rounds of concurrent creates were refused only by chance.
      await attempt('first');
      const holder = new pg.Client({ connectionString: transaction.url(db.name) });
      await holder.connect();
      try {
        await holder.query('BEGIN');
        await holder.query('SELECT 1');
        await attempt('second');
        await attempt('third');
        await holder.query('COMMIT');
      } finally {
        await holder.end();
      }
    } finally {
      await store.close();
    }
    assert.ok(refused.length > 0, `no create was refused: ${created.join(', ')}`);
    for (const err of refused) {
      assert.equal(err.status, 503);
      assert.match(err.message, /pool_mode = transaction or statement/);
      assert.match(err.message, /fix: give this database pool_mode = session in the pooler, or connect to PostgreSQL directly/);
    }
    const stored = await withPgClient(db.url, async (c) => (await c.query(`SELECT name FROM ${SCHEMA}.studies ORDER BY name`)).rows.map((r) => r.name as string));
    assert.deepEqual(stored, [...created].sort(), 'a refused create wrote nothing; every answered one is stored');
  });
});

describe('PgStorage over TLS (a PgBouncer that takes only encrypted connections)', () => {
  const skip = 'unavailable' in tls ? tls.unavailable : false;
  it('works with ?sslmode=verify-full&sslrootcert=, and names each missing piece with its fix', { skip }, async () => {
    if ('unavailable' in tls || 'unavailable' in db) return;
    await resetSchema();
    const url = tls.url(db.name);
    const store = await PgStorage.connect(url);
    try {
      const study = await store.createStudy({ name: 'over-tls', direction: 'maximize', config: { name: 'over-tls' } });
      assert.equal((await store.getStudy(study.id))?.name, 'over-tls');
    } finally {
      await store.close();
    }
    const refused = async (edit: (u: URL) => void, field: string, message: RegExp) => {
      const u = new URL(url);
      edit(u);
      await assert.rejects(PgStorage.connect(u.toString()), (e: unknown) => e instanceof ConfigError && e.field === field && message.test(e.message), message.source);
    };
    await refused((u) => u.search = '', '--db', /SSL required \(the server takes only encrypted connections\).*add \?sslmode=verify-full to the URL/);
    await refused((u) => u.searchParams.delete('sslrootcert'), '--db', /the server's TLS certificate was not verified \(self[- ]signed certificate\).*\?sslrootcert=\/path\/to\/ca\.pem/);
    await refused((u) => u.searchParams.set('sslrootcert', join(certDir, 'none.pem')), '--db ?sslrootcert', /cannot read .*none\.pem \(ENOENT\).*give the PEM certificate of the authority/);
  });
});
