// The study package's own conflict errors: each has a stable code so a client can tell what to do next.
import { ConflictError, NotFoundError, RenormTuneError } from '../errors.js';

/** The trial's lease moved on (it expired and was reclaimed, or the trial finished): the caller is a zombie and must stop. */
export class LeaseLostError extends ConflictError {
  override readonly code = 'LEASE_LOST';
  constructor(trialNumber: number | string, why: string, advice = 'stop working on it, its result would be refused') {
    super(`trial #${trialNumber}: lease lost (${why}); ${advice}`);
  }
}

/**
 * A result or report for a queued (WAITING) trial sent without a lease token: nobody was handed that trial, so
 * nobody can have trained it (Optuna refuses to tell a WAITING trial too). Ask first: asks hand out queued trials.
 */
export class TrialNotRunningError extends ConflictError {
  override readonly code = 'TRIAL_NOT_RUNNING';
  constructor(trialNumber: number, state: string) {
    super(`trial #${trialNumber} is ${state}: it was never handed out, so there is no result of it to take (fix: ask for it first, since asks hand out queued trials before new ones, then report and tell with the lease token the ask returned)`);
  }
}

/** Trials were created since the caller's snapshot: retry with fresh pending trials (the service does, transparently). */
export class StaleSnapshotError extends ConflictError {
  override readonly code = 'STALE_SNAPSHOT';
  constructor(studyId: string, expected: number, found: number) {
    super(`study ${studyId} has ${found} trials, not ${expected}: another process asked meanwhile (retry)`);
  }
}

/** 409 like any state conflict, with its own code so a client can tell "stop asking" from "that trial is finished". */
export class BudgetExhaustedError extends ConflictError {
  override readonly code = 'BUDGET_EXHAUSTED';
  constructor(studyName: string, what: string) {
    super(`study '${studyName}' has used its whole budget (${what}) (fix: read the results, or extend the study's budget)`);
  }
}

/** The study was stopped (`renorm-tune stop`, POST .../stop): no new trials until it is resumed; trials already out may still report and tell. */
export class StudyStoppedError extends ConflictError {
  override readonly code = 'STUDY_STOPPED';
  constructor(studyName: string, resume: string) {
    super(`study '${studyName}' is stopped: it hands out no new trials (fix: ${resume})`);
  }
}

/** A database written by a newer renorm-tune: opening it could corrupt data this version does not understand. */
export class StorageVersionError extends RenormTuneError {
  /** `other`: what else --db could name, a SQLite `file` or a PostgreSQL `database`. */
  constructor(where: string, found: number, known: number, other: 'file' | 'database') {
    super(
      'STORAGE_VERSION',
      `${where}: database schema version ${found} is newer than this renorm-tune understands (up to ${known}); ` +
        `upgrade renorm-tune, or point --db at another ${other}`,
      500,
    );
  }
}

/** The database stopped answering mid-run (a restart, a network cut): nothing was written by this call; retry later. */
export class StorageUnavailableError extends RenormTuneError {
  constructor(where: string, why: string) {
    super('STORAGE_UNAVAILABLE', `${where}: the database is unreachable (${why}); nothing was written by this request, retry when it is back`, 503);
  }
}

/**
 * The connection to the database was lost after a write was sent and before its commit was confirmed: it may or may
 * not have been made. Still a 503 to wait out, under its own code: a client sends again only a call that is safe to
 * repeat, and finds what the first try did otherwise (as after a connection cut mid-call).
 */
export class StorageOutcomeUnknownError extends StorageUnavailableError {
  override readonly code = 'STORAGE_OUTCOME_UNKNOWN';
  constructor(where: string, why: string) {
    super(where, why);
    this.message = `${where}: the connection to the database was lost (${why}) after this request's change was sent and before it was ` +
      'confirmed: it may or may not have been written; read it back before doing it again (a call safe to repeat may simply be sent again)';
  }
}

/**
 * Every pooled connection stayed busy past the wait for one: queries slower than the load, or a lock held by a
 * session whose process is gone and whose server has not noticed yet. Nothing was written (503, so clients retry).
 */
export class StorageBusyError extends StorageUnavailableError {
  constructor(where: string, waitedMs: number) {
    super(where, 'busy');
    this.message = `${where}: every connection of this process to the database stayed busy for ${waitedMs / 1000} s; nothing was written by this ` +
      'request, retry (if it lasts, look in pg_stat_activity for sessions waiting on a lock, and for the session holding it)';
  }
}

/** The disk under the database is full: the write was rolled back. An outage to wait out (503, so clients retry), not a bug. */
export class StorageFullError extends StorageUnavailableError {
  constructor(where: string) {
    super(where, 'disk full');
    this.message = `${where}: the disk holding the database is full; nothing was written by this request (fix: free space on that disk, then retry, or run the same command again)`;
  }
}

/**
 * The database refuses writes (a SQLite file or folder this process may not write, a PostgreSQL standby): nothing
 * was written. Answered like an outage (503): an operator can fix it while clients retry.
 */
export class StorageReadOnlyError extends StorageUnavailableError {
  constructor(where: string, why: string, fix: string) {
    super(where, 'read-only');
    this.message = `${where}: the database is read-only to this process (${why}); nothing was written by this request (fix: ${fix}, then retry, or run the same command again)`;
  }
}

/**
 * A pooler in front of the database hands each transaction to whichever server session is free (PgBouncer's
 * transaction or statement mode): the named statements, study locks and notifications renorm-tune keeps per session
 * go astray. Nothing was written by the call that found it; 503, like a read-only database, while an operator fixes it.
 */
export class StoragePoolerError extends StorageUnavailableError {
  constructor(where: string, said: string) {
    super(where, 'pooler');
    this.message = `${where}: the connections reach the database through a pooler that hands each transaction to another server session ` +
      `(PgBouncer's pool_mode = transaction or statement; it said: ${said}); nothing was written by this request ` +
      '(fix: give this database pool_mode = session in the pooler, or connect to PostgreSQL directly)';
  }
}

/** The study was deleted (`renorm-tune delete`, DELETE /api/studies/:id) while a run or coordinator held it. */
export class StudyDeletedError extends NotFoundError {
  constructor(studyName: string, studyId: string) {
    super(`study '${studyName}' (${studyId})`);
    this.message = `study '${studyName}' (${studyId}) was deleted while this run held it: its trials are gone and there is nothing to resume`;
  }
}

/** The numbers a study's trials run over, for naming what a caller could have meant. */
export interface TrialSpan {
  count: number;
  first: number;
  last: number;
}

/**
 * A `#number` the study does not have (a REST route's :number, `show --trial`): names the study and the numbers it
 * does have. The fix says where to list them, over HTTP unless the caller (the CLI) names its own way.
 */
export class NoSuchTrialError extends NotFoundError {
  constructor(
    readonly studyName: string,
    readonly number: number,
    readonly span: TrialSpan | null,
    fix = `use a number ask returned, or GET /api/studies/${encodeURIComponent(studyName)} to list them`,
  ) {
    super(`trial #${number} of study '${studyName}'`);
    const which = Number.isSafeInteger(number) ? `#${number}` : 'numbered beyond 2^53';
    const has = span === null ? 'it has no trials yet' : span.count === 1 ? `its only trial is #${span.first}` : `its trials are #${span.first}-#${span.last}`;
    this.message = `study '${studyName}' has no trial ${which}; ${has} (fix: ${fix})`;
  }
}

/**
 * The SQLite file (or its -wal) was deleted or replaced while this process held it open: writes would land where
 * nobody can read them again. Everything written so far was copied to `recovered` when that was possible.
 */
export class DatabaseFileGoneError extends RenormTuneError {
  constructor(file: string, how: string, recovered: string | null, why?: string) {
    const fix = recovered
      ? `every result written until now is saved in ${recovered}; move it to ${file} and run the same command again to resume`
      : `the results could not be copied out (${why ?? 'unknown'}); restore ${file} from a backup`;
    super('DATABASE_FILE_GONE', `${file} ${how} while this process had it open, so nothing more is written to it (fix: ${fix})`, 503);
  }
}

/**
 * What a failed lease renewal means for the trial in training: its lease went to someone else, or its study was
 * deleted (a run goes on through failed reports, so without this it would train to its end); undefined for anything
 * else (the store away for a moment): the next beat tries again. The runner's heartbeat and a queue worker's lease
 * keeper both read it here.
 */
export function beatEnds(err: unknown): 'lease lost' | 'study deleted' | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'LEASE_LOST' ? 'lease lost' : code === 'NOT_FOUND' ? 'study deleted' : undefined;
}
