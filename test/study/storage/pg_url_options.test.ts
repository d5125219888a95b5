// The query options of a PostgreSQL URL: a near miss of one that is read is refused naming the one meant; anything
// else nothing reads is said once, on connecting.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../../src/errors.js';
import { resolveConfig } from '../../../src/study/storage/pg_connect.js';
import { PgStorage } from '../../../src/study/storage/postgres.js';
import { createTestDatabase } from '../../fixtures/pg.js';

describe('URL options', () => {
  const refused = (url: string, option: string, meant: string) => assert.throws(() => resolveConfig(url, {}), (e: unknown) => {
    assert.ok(e instanceof ConfigError, String(e));
    assert.match(e.message, new RegExp(`--db \\?${option}\\b.*not an option renorm-tune or its PostgreSQL driver reads.*did you mean \\?${meant}\\?`));
    return true;
  });

  it('refuses a near miss of an option that is read, naming the one meant', () => {
    refused('postgres://u@h/db?pool_maks=8', 'pool_maks', 'pool_max');
    refused('postgres://u@h/db?lock_wiat=5', 'lock_wiat', 'lock_wait');
    refused('postgres://u@h/db?connect_timout=5', 'connect_timout', 'connect_timeout');
    refused('postgres://u@h/db?ssl_mode=require', 'ssl_mode', 'sslmode');
    refused('postgres://u@h/db?max=16', 'max', 'pool_max');
    refused('postgres://u@h/db?pool_size=16', 'pool_size', 'pool_max');
  });

  it('passes the options renorm-tune and node-postgres read, and lists any other as ignored', () => {
    const read = resolveConfig('postgres://u@h/db?pool_max=2&lock_wait=5&connect_timeout=3&sslmode=disable&application_name=a&statement_timeout=100', {});
    assert.deepEqual(read.ignored, []);
    assert.equal((read.client as { connectionString: string }).connectionString.includes('statement_timeout=100'), true, 'the driver still gets the URL whole');
    assert.deepEqual(resolveConfig('postgres://u@h/db?target_session_attrs=read-write&gssencmode=disable&pool_max=2', {}).ignored, ['target_session_attrs', 'gssencmode']);
    // libpq's own options are never taken for near misses of the ones that are read.
    assert.deepEqual(resolveConfig('postgres://u@h/db?sslcrl=/c.pem&sslpassword=x&dbname=db&passfile=/p', {}).ignored, ['sslcrl', 'sslpassword', 'dbname', 'passfile']);
  });

  it('says once, on connecting, which options are ignored', { timeout: 30_000 }, async (t) => {
    const db = await createTestDatabase('urlopts');
    if ('unavailable' in db) return t.skip(db.unavailable);
    const warnings: string[] = [];
    const url = new URL(db.url);
    url.searchParams.set('target_session_attrs', 'read-write');
    const storage = await PgStorage.connect(url.toString(), { warn: (m) => warnings.push(m) });
    try {
      assert.deepEqual(warnings.filter((w) => /ignored/.test(w)).map((w) => w.replace(/^.*: \?/, '?')), ['?target_session_attrs is not read by renorm-tune or its PostgreSQL driver, and ignored']);
    } finally {
      await storage.close();
      await db.drop();
    }
  });
});
