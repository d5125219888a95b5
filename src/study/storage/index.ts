// Public names of the storage package: the interchangeable Storage implementations and how to open one from `--db`.
import { ConfigError } from '../../errors.js';
import type { Storage } from '../types.js';
import { MemoryStorage } from './memory.js';
import type { PgOptions } from './postgres.js';
import { SqliteStorage, type SqliteOptions } from './sqlite.js';

export { MemoryStorage } from './memory.js';
export { SqliteStorage, type SqliteOptions } from './sqlite.js';
export { StorageVersionError, LATEST_VERSION as STORAGE_SCHEMA_VERSION } from './migrations.js';

/** The environment variable that stands in for `--db` everywhere. */
export const DB_ENV = 'RENORM_TUNE_DB';
/** The embedded default: a SQLite file in the working directory, like git's repository lookup. */
export const DEFAULT_DB = 'renorm-tune.db';

export type StorageRef = { kind: 'memory' } | { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };

/** Parses a `--db` value: `:memory:`, a postgres:// (or postgresql://) URL, or a SQLite file path. Other URL schemes are named and refused. */
export function parseStorageRef(ref: string, field = '--db'): StorageRef {
  if (typeof ref !== 'string' || ref.trim() === '') throw new ConfigError(field, 'must name a SQLite file or a postgres:// URL', `e.g. ${field} ${DEFAULT_DB}`);
  if (ref === ':memory:') return { kind: 'memory' };
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(ref)?.[1]?.toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql') return { kind: 'postgres', url: ref };
  if (scheme !== undefined) {
    throw new ConfigError(field, `unsupported database URL scheme '${scheme}://'`, 'give a SQLite file path, or postgres://user@host:5432/database');
  }
  return { kind: 'sqlite', file: ref };
}

export type { PgOptions, SchemaInfo } from './postgres.js';

/** Options of either kind of file or server; each backend reads its own (PostgreSQL ignores `clock`: its clock is the server's). */
export interface OpenStorageOptions extends SqliteOptions, PgOptions {
  /** Where a repaired stored value or a lost notification connection is reported. */
  warn?: (message: string) => void;
}

/** Opens (and migrates) the store `ref` names; a PostgreSQL URL connects first, so an unreachable server fails here, named. */
export async function openStorage(ref: string, opts: OpenStorageOptions = {}): Promise<Storage> {
  const parsed = parseStorageRef(ref, opts.field);
  if (parsed.kind === 'memory') return new MemoryStorage();
  if (parsed.kind === 'sqlite') return new SqliteStorage(parsed.file, opts);
  const { PgStorage } = await import('./postgres.js');
  return PgStorage.connect(parsed.url, opts);
}

/** `--db`, else $RENORM_TUNE_DB, else the embedded default. */
export function storageRefFrom(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? (env[DB_ENV] || DEFAULT_DB);
}
