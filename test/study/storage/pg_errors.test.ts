import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SOCKET_LOST_CODES } from '../../../src/net_errors.js';
import { StorageBusyError, StorageFullError, StoragePoolerError, StorageReadOnlyError, StorageUnavailableError } from '../../../src/study/errors.js';
import { storageError } from '../../../src/study/storage/pg_errors.js';

const where = 'postgres://app@db.example:5432/tune';
const failure = (code: string, message = `driver said ${code}`) => Object.assign(new Error(message), { code });

test('every socket code that means the server is gone or unreachable is a 503 naming the database', () => {
  // ENETUNREACH (the network down) and EAI_AGAIN (DNS failing for now) were missing here, so they reached the
  // client as a raw driver error, while the connect path and the Redis outage already named them.
  for (const code of SOCKET_LOST_CODES) {
    const err = storageError(failure(code), where);
    assert.ok(err instanceof StorageUnavailableError, `${code}: ${String(err)}`);
    assert.match((err as Error).message, /db\.example/, code);
  }
});

test('connection exceptions, a shutting-down server and the pool\'s own words are 503 too', () => {
  for (const code of ['08006', '08003', '57P01', '57P03']) assert.ok(storageError(failure(code), where) instanceof StorageUnavailableError, code);
  assert.ok(storageError(new Error('Connection terminated unexpectedly'), where) instanceof StorageUnavailableError);
  assert.ok(storageError(new Error('Connection terminated due to connection timeout'), where) instanceof StorageUnavailableError);
});

test('no pooled connection free in time (pg-pool\'s exact words) is a 503 saying the connections stayed busy, not a 500', () => {
  // It was a 500 "internal error": the test above had matched a message pg-pool never writes. npm run soak found it.
  const err = storageError(new Error('timeout exceeded when trying to connect'), where);
  assert.ok(err instanceof StorageBusyError, String(err));
  assert.equal((err as StorageBusyError).code, 'STORAGE_UNAVAILABLE');
  assert.match((err as Error).message, /db\.example.*stayed busy for 30 s; nothing was written/);
});

test('a request that outlasted its server\'s stop, finding the pools ended, is a 503 saying the server is stopping, not a 500', () => {
  const err = storageError(new Error('Cannot use a pool after calling end on the pool'), where);
  assert.ok(err instanceof StorageUnavailableError, String(err));
  assert.match((err as Error).message, /this server is stopping/);
});

test('a named statement lost between server sessions (PgBouncer in transaction mode) is a 503 naming the pooler and the fix, not a 500', () => {
  // What PgBouncer 1.18 in transaction mode gave the storage suite: 34 of its tests failed with this raw driver error.
  for (const [code, said] of [['42P05', 'prepared statement "renorm_tune_187ebc6f5e43f461213f" already exists'], ['26000', 'prepared statement "renorm_tune_1" does not exist']] as const) {
    const err = storageError(failure(code, said), where);
    assert.ok(err instanceof StoragePoolerError, `${code}: ${String(err)}`);
    assert.equal((err as StoragePoolerError).status, 503);
    assert.match((err as Error).message, new RegExp(`db\\.example.*pool_mode = transaction or statement; it said: ${said.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\); nothing was written.*fix: give this database pool_mode = session`));
  }
});

test('a read-only or full server is named with its fix; any other error passes through unchanged', () => {
  assert.ok(storageError(failure('25006'), where) instanceof StorageReadOnlyError);
  assert.ok(storageError(failure('53100'), where) instanceof StorageFullError);
  for (const err of [failure('23505', 'duplicate key'), failure('40001', 'could not serialize'), new TypeError('a bug'), null]) {
    assert.equal(storageError(err, where), err);
  }
});
