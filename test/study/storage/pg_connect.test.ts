// PostgreSQL connection settings and messages, without a server: redaction, URL options, what a driver failure becomes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, DataError, NotFoundError } from '../../../src/errors.js';
import { connectError, DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_LOCK_WAIT_MS, DEFAULT_POOL_MAX, redactUrl, resolveConfig } from '../../../src/study/storage/pg_connect.js';

describe('redactUrl', () => {
  it('hides a password in the user info or the query, and keeps everything else', () => {
    assert.equal(redactUrl('postgres://alice:s3cr%40t@db.example:6543/tune?sslmode=require'), 'postgres://alice:***@db.example:6543/tune?sslmode=require');
    assert.equal(redactUrl('postgres://alice@db/tune?password=s3cret&x=1'), 'postgres://alice@db/tune?password=***&x=1');
    assert.equal(redactUrl('postgres://alice@db/tune'), 'postgres://alice@db/tune');
  });

  it('hides the password even in a URL the parser refuses', () => {
    const out = redactUrl('postgres://alice:pa ss@host:badport/db');
    assert.ok(!out.includes('pa ss'), out);
    assert.match(out, /alice:\*\*\*@host/);
  });
});

describe('resolveConfig', () => {
  it('takes pool size, connect timeout and lock wait from the URL, options winning, with small defaults', () => {
    const d = resolveConfig('postgres://u@h/db', {});
    assert.equal(d.poolMax, DEFAULT_POOL_MAX);
    assert.equal(d.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS);
    assert.equal(d.client.connectionTimeoutMillis, DEFAULT_CONNECT_TIMEOUT_MS);
    assert.equal(d.lockWaitMs, DEFAULT_LOCK_WAIT_MS);
    const u = resolveConfig('postgres://u@h/db?pool_max=8&connect_timeout=2&lock_wait=90', {});
    assert.deepEqual([u.poolMax, u.connectTimeoutMs, u.lockWaitMs], [8, 2000, 90_000]);
    const o = resolveConfig('postgres://u@h/db?pool_max=8&lock_wait=90', { poolMax: 2, connectTimeoutMs: 300, lockWaitMs: 250 });
    assert.deepEqual([o.poolMax, o.connectTimeoutMs, o.lockWaitMs], [2, 300, 250]);
  });

  it('names a bad option, a missing database and a malformed URL, never the password', () => {
    assert.throws(() => resolveConfig('postgres://u@h/db?pool_max=lots', {}), (e: unknown) => e instanceof ConfigError && /\?pool_max/.test(e.message) && /'lots'/.test(e.message));
    assert.throws(() => resolveConfig('postgres://u@h/db?connect_timeout=0', {}), (e: unknown) => e instanceof ConfigError && /\?connect_timeout/.test(e.message));
    assert.throws(() => resolveConfig('postgres://u@h/db?lock_wait=1.5', {}), (e: unknown) => e instanceof ConfigError && /\?lock_wait/.test(e.message) && /\[1, 3600\]/.test(e.message));
    assert.throws(() => resolveConfig('postgres://u@h/db', { lockWaitMs: 0 }), (e: unknown) => e instanceof ConfigError && /lockWaitMs/.test(e.message));
    assert.throws(() => resolveConfig('postgres://u@h/db', { poolMax: 0 }), ConfigError);
    assert.throws(() => resolveConfig('postgres://u:pw123@h:5432', {}), (e: unknown) => e instanceof ConfigError && /names no database/.test(e.message) && !e.message.includes('pw123'));
    assert.throws(() => resolveConfig('postgres://u:pw123@h:port/db', {}), (e: unknown) => e instanceof ConfigError && /not a valid URL/.test(e.message) && !e.message.includes('pw123'));
  });
});

describe('connectError', () => {
  const url = 'postgres://u:pw123@h:5432/db';

  it('turns what the URL got wrong into a ConfigError with the fix', () => {
    const e = connectError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), url, 5000);
    assert.ok(e instanceof ConfigError);
    assert.equal(e.message, '--db: cannot use postgres://u:***@h:5432/db: connection refused (nothing listens there) (fix: start PostgreSQL, or correct the host and port in the URL)');
    assert.match(connectError(new Error('timeout expired'), url, 3000).message, /no answer within 3 s/);
    assert.match(connectError(Object.assign(new Error('x'), { code: '3D000' }), url, 5000).message, /database does not exist.*createdb/);
  });

  it('reads PgBouncer\'s words for a missing database and a refused login (it sends both as 08P01, as it did in 1.18)', () => {
    const bouncer = (message: string) => connectError(Object.assign(new Error(message), { code: '08P01' }), url, 5000);
    for (const m of ['database "db" does not exist', 'no such database: db']) {
      const e = bouncer(m);
      assert.ok(e instanceof ConfigError, String(e));
      assert.match(e.message, /the database does not exist \(.*, from PgBouncer\).*list it under PgBouncer's \[databases\]/);
    }
    for (const m of ['"trust" authentication failed', 'no such user: u', 'password authentication failed']) {
      assert.match(bouncer(m).message, /the login was refused \(.*, from PgBouncer\).*PgBouncer's auth_file/);
    }
    assert.ok(!(bouncer('some other protocol violation') instanceof ConfigError), 'anything else PgBouncer says is passed on as it is');
  });

  it('scrubs the password from anything else the driver says, and lets renorm-tune\'s own errors through', () => {
    const e = connectError(new Error('weird failure mentioning pw123'), url, 5000);
    assert.ok(e instanceof DataError);
    assert.ok(!e.message.includes('pw123'), e.message);
    const own = new NotFoundError('x');
    assert.equal(connectError(own, url, 5000), own);
  });
});
