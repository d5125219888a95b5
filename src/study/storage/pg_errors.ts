// What a PostgreSQL driver error means for the store: a lost server or connection, a read-only or full one (each a
// 503 naming the database, never a raw driver error), or anything else, passed through unchanged.
import { SOCKET_LOST_CODES } from '../../net_errors.js';
import { StorageBusyError, StorageFullError, StorageOutcomeUnknownError, StoragePoolerError, StorageReadOnlyError, StorageUnavailableError } from '../errors.js';
import { ACQUIRE_TIMEOUT_MS } from './pg_connect.js';

/** The SQLSTATE (or socket code) and constraint a driver error carries, if any. */
export function sqlState(err: unknown): { code?: string; constraint?: string } {
  return (err ?? {}) as { code?: string; constraint?: string };
}

/** Connection exceptions (class 08), the server shutting down (57P0x), a socket gone, or the pool's words for them. */
function connectionLost(code: string, message: string): boolean {
  return /^(08|57P0)/.test(code) || SOCKET_LOST_CODES.has(code)
    || /Connection terminated|connection timeout|Client has encountered a connection error/i.test(message);
}

/**
 * `err` as the store reports it: one of the storage errors for the database `where` (password redacted), or `err`
 * itself. `sent`: the error came after a write (a COMMIT, or a statement that commits on its own) went out on a live
 * connection, so a lost connection leaves its outcome unknown.
 */
export function storageError(err: unknown, where: string, sent = false): unknown {
  const code = sqlState(err).code ?? '';
  const message = String((err as Error | null)?.message ?? '');
  // pg-pool's words when no pooled connection came free within connectionTimeoutMillis (not a lost server: busy).
  if (message === 'timeout exceeded when trying to connect') return new StorageBusyError(where, ACQUIRE_TIMEOUT_MS);
  // A request that outlasted its server's stop (past the HTTP drain's grace) finds the pools closed.
  if (message === 'Cannot use a pool after calling end on the pool') return new StorageUnavailableError(where, 'this server is stopping and has closed its connections');
  if (connectionLost(code, message)) return sent ? new StorageOutcomeUnknownError(where, code || message) : new StorageUnavailableError(where, code || message);
  // The server is up but cannot take the write: said with the database's name and the fix, not as a 500.
  if (code === '25006') return new StorageReadOnlyError(where, 'it answers as a read-only server: a standby, or default_transaction_read_only', 'point --db at the primary, or make the database writable');
  if (code === '53100') return new StorageFullError(where);
  // A named statement prepared on one server session and used on another: only a pooler in transaction mode does that.
  if (code === '42P05' || code === '26000') return new StoragePoolerError(where, message);
  return err;
}
