// Which builds may work on one study together: the package version and the storage schema, checked here and nowhere else.
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, DataError, RenormTuneError, SchemaMissingError } from '../errors.js';
import { FOREIGN_AFTER_MS } from './missing_study.js';
import { CLI, RUN_COORDINATOR } from '../shared/names.js';
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

/** The worker's --db is not the database its queue's coordinator runs on. */
export class WrongDatabaseError extends ConfigError {}

export interface SchemaWait {
  /** The database as it may be shown (a URL without its password). */
  where: string;
  /** How long to wait for a schema: the worker's --idle-exit (Infinity: until `signal`). */
  waitMs: number;
  signal: AbortSignal;
  /** The coordinators announced on the worker's queue now. */
  coordinators: () => Promise<{ owner: string; studyName: string }[]>;
  /** Called once, when the database first holds none. */
  onWait: () => void;
  /** Looks again this often (default 1 s). */
  everyMs?: number;
  /** Default FOREIGN_AFTER_MS. */
  foreignAfterMs?: number;
}

/**
 * openWorkerService, waiting while the database holds no schema yet: its coordinator, which creates it, has not
 * started, so a worker may be started first. Undefined when the wait ended (`waitMs` with no coordinator announced,
 * or `signal`) with none. A
 * coordinator announced on the worker's queue for `foreignAfterMs` while the database still holds none created its
 * study's schema before announcing it, in another database: a WrongDatabaseError (a ConfigError naming --db).
 */
export async function openWorkerServiceWhenCreated(ref: string, w: SchemaWait): Promise<Awaited<ReturnType<typeof openWorkerService>> | undefined> {
  const start = Date.now();
  const everyMs = w.everyMs ?? 1_000;
  let announcedSince: number | undefined;
  for (let first = true; !w.signal.aborted; first = false) {
    try {
      return await openWorkerService(ref);
    } catch (err) {
      if (!(err instanceof SchemaMissingError)) throw err;
      if (first) w.onWait();
    }
    const coordinator = (await w.coordinators())[0];
    announcedSince = coordinator ? announcedSince ?? Date.now() : undefined;
    if (coordinator && Date.now() - announcedSince! >= (w.foreignAfterMs ?? FOREIGN_AFTER_MS)) {
      throw new WrongDatabaseError('--db', `${w.where} still holds no renorm-tune schema while coordinator ${coordinator.owner} runs study '${coordinator.studyName}' on this queue: this worker's database is not its coordinator's`,
        'give the worker the coordinator\'s --db, or give each database its own --redis-prefix');
    }
    // The idle wait (--idle-exit) ends only with no coordinator about: while one is announced the worker is not idle,
    // and it waits for the schema or for the check above to call this database the wrong one (it left after 2 s,
    // exit 0, saying that no coordinator had run a study here).
    const left = w.waitMs - (Date.now() - start);
    if (left <= 0 && !coordinator) return undefined;
    await sleep(left > 0 ? Math.min(everyMs, left) : everyMs, undefined, { signal: w.signal }).catch(() => undefined); // a signal ends it at once
  }
  return undefined;
}

/** SQLite keeps its schema version in PRAGMA user_version; read it without opening (and so migrating) the store. */
function checkSqliteSchema(file: string): void {
  if (!existsSync(file)) throw new SchemaMissingError(file, `no such database file (fix: start its coordinator, ${RUN_COORDINATOR}; it creates the database)`);
  let version: number;
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      version = db.pragma('user_version', { simple: true }) as number;
    } finally {
      db.close();
    }
  } catch (err) {
    // Locked: its coordinator is creating it (a reader waits only on that).
    if ((err as { code?: string }).code === 'SQLITE_BUSY') throw new SchemaMissingError(file, 'being created by its coordinator (locked)');
    throw new DataError(file, `cannot read database: ${(err as Error).message}`);
  }
  // 0: a file being created by its coordinator (the schema comes in the same transaction), or an empty one.
  if (version === 0) throw new SchemaMissingError(file, `holds no renorm-tune schema yet (fix: start its coordinator, ${RUN_COORDINATOR}; it creates the schema)`);
  if (version !== STORAGE_SCHEMA_VERSION) throw schemaMismatch(file, version);
}

function schemaMismatch(where: string, found: number): VersionMismatchError {
  const fix = found < STORAGE_SCHEMA_VERSION
    ? `run the coordinator of this version (\`${CLI} run\`, which migrates) first, or install the older renorm-tune here`
    : 'install the renorm-tune version that wrote it on this worker machine';
  return new VersionMismatchError(`${where}: database schema version ${found}, this worker needs exactly ${STORAGE_SCHEMA_VERSION} and never migrates (fix: ${fix})`);
}
