// Opens the study service for a CLI command from `--db` (a SQLite file or a postgres:// URL; $RENORM_TUNE_DB when the flag is absent).
import { createStudyService } from '../study/service/defaults.js';
import type { StudyService } from '../study/service.js';
import type { Storage } from '../study/types.js';
import { openStorage, parseStorageRef, storageRefFrom } from '../study/storage/index.js';
import { redactUrl } from '../study/storage/pg_connect.js';
import { CLI, shellWord } from '../shared/names.js';

export { DB_ENV, DEFAULT_DB } from '../study/storage/index.js';

/** The `--db` option's help, the same for every command. */
export const DB_HELP = 'SQLite file or postgres:// URL (default: $RENORM_TUNE_DB, else ./renorm-tune.db)';

/** Read-only commands pass `mustExist`: a typo in --db must not leave an empty SQLite file behind. */
export async function openService(db: string | undefined, opts: { mustExist?: boolean; field?: string } = {}): Promise<{ service: StudyService; storage: Storage; ref: string; close(): Promise<void> }> {
  const ref = storageRefFrom(db);
  const storage = await openStorage(ref, { mustExist: opts.mustExist === true, ...(opts.field ? { field: opts.field } : {}) });
  const service = createStudyService(storage);
  return {
    service,
    storage,
    ref,
    close: async () => {
      service.close();
      await storage.close();
    },
  };
}

/** Runs `fn` with a service over `db`, closing it whatever happens. */
export async function withService<T>(db: string | undefined, fn: (s: StudyService) => Promise<T>, opts: { mustExist?: boolean; field?: string } = { mustExist: true }): Promise<T> {
  const { service, close } = await openService(db, opts);
  try {
    return await fn(service);
  } catch (err) {
    throw withDbInHint(err, db);
  } finally {
    await close();
  }
}

/**
 * The store's errors point at `studies` without a database (they are the API's words too): from a command given
 * --db, the hint names it, so it pastes and lists the right database.
 */
export function withDbInHint(err: unknown, db: string | undefined): unknown {
  const plain = `\`${CLI} studies\``;
  if (db !== undefined && err instanceof Error && err.message.includes(plain)) err.message = err.message.replace(plain, `\`${CLI} studies --db ${shellWord(db)}\``);
  return err;
}

/** The database as messages name it: a file path, or the URL without its password. */
export function dbWhere(ref: string): string {
  const parsed = parseStorageRef(ref);
  return parsed.kind === 'postgres' ? redactUrl(parsed.url) : parsed.kind === 'sqlite' ? parsed.file : ':memory:';
}
