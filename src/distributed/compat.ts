// Which builds may work on one study together: the package version and the storage schema, checked here and nowhere else.
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { DataError, RenormTuneError } from '../errors.js';
import { CLI } from '../shared/names.js';
import { createStudyService } from '../study/service/defaults.js';
import type { StudyService } from '../study/service.js';
import { openStorage, parseStorageRef, STORAGE_SCHEMA_VERSION } from '../study/storage/index.js';
import { PACKAGE_VERSION } from '../version.js';

/** What a coordinator announces and stamps on every job, and what a worker compares with its own. */
export interface Build {
  version: string;
  schema: number;
}

export const THIS_BUILD: Build = { version: PACKAGE_VERSION, schema: STORAGE_SCHEMA_VERSION };

/** A peer (coordinator, job, database) of another version: working beside it could misread or corrupt its data. */
export class VersionMismatchError extends RenormTuneError {
  constructor(message: string) {
    super('VERSION_MISMATCH', message, 409);
  }
}

const describe = (b: Build) => `renorm-tune ${b.version} (storage schema ${b.schema})`;

/** Throws unless `peer` is this very build; `who` names the peer in the message ("the coordinator host:pid:..."). */
export function checkPeer(peer: Build, who: string): void {
  if (peer.version === THIS_BUILD.version && peer.schema === THIS_BUILD.schema) return;
  throw new VersionMismatchError(
    `${who} runs ${describe(peer)}, this worker is ${describe(THIS_BUILD)}; refusing to train for it ` +
      '(fix: install the same renorm-tune version on the coordinator and every worker machine)',
  );
}

/** True when `raw` looks like a Build (job data and presence records come from outside this process). */
export function isBuild(raw: unknown): raw is Build {
  const b = raw as Build;
  return !!b && typeof b === 'object' && typeof b.version === 'string' && Number.isInteger(b.schema);
}

/**
 * Opens the study service a worker trains through, after checking that the database's schema is exactly this
 * build's. A worker never migrates: the coordinator (`run`) owns the schema, so an older database means the
 * coordinator is older (or has not started yet), and a newer one means this worker is. PostgreSQL makes the same
 * check itself when connected with `migrate: false`; SQLite is checked here, before the file is opened.
 */
export async function openWorkerService(ref: string): Promise<{ service: StudyService; close(): Promise<void> }> {
  const parsed = parseStorageRef(ref);
  if (parsed.kind === 'sqlite') checkSqliteSchema(parsed.file);
  const storage = await openStorage(ref, { mustExist: true, migrate: false });
  const service = createStudyService(storage);
  return {
    service,
    close: async () => {
      service.close();
      await storage.close();
    },
  };
}

/** SQLite keeps its schema version in PRAGMA user_version; read it without opening (and so migrating) the store. */
function checkSqliteSchema(file: string): void {
  if (!existsSync(file)) throw new DataError(file, `no such database file (fix: start the coordinator, \`${CLI} run <config> --db ... --redis ...\`, first; it creates the database)`);
  let version: number;
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      version = db.pragma('user_version', { simple: true }) as number;
    } finally {
      db.close();
    }
  } catch (err) {
    throw new DataError(file, `cannot read database: ${(err as Error).message}`);
  }
  if (version !== STORAGE_SCHEMA_VERSION) throw schemaMismatch(file, version);
}

function schemaMismatch(where: string, found: number): VersionMismatchError {
  const fix = found < STORAGE_SCHEMA_VERSION
    ? `run the coordinator of this version (\`${CLI} run\`, which migrates) first, or install the older renorm-tune here`
    : 'install the renorm-tune version that wrote it on this worker machine';
  return new VersionMismatchError(`${where}: database schema version ${found}, this worker needs exactly ${STORAGE_SCHEMA_VERSION} and never migrates (fix: ${fix})`);
}
