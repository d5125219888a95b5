// Public names of the storage package: the two interchangeable Storage implementations and how to open one.
import type { Storage } from '../types.js';
import { MemoryStorage } from './memory.js';
import { SqliteStorage, type SqliteOptions } from './sqlite.js';

export { MemoryStorage } from './memory.js';
export { SqliteStorage, type SqliteOptions } from './sqlite.js';
export { StorageVersionError, LATEST_VERSION as STORAGE_SCHEMA_VERSION } from './migrations.js';

/** `':memory:'` gives a RAM store (nothing survives the process); any other string is a SQLite file path. */
export function openStorage(path: string, opts: SqliteOptions = {}): Storage {
  return path === ':memory:' ? new MemoryStorage() : new SqliteStorage(path, opts);
}
