// The embedded Storage: one SQLite file (better-sqlite3, WAL), the only module that speaks SQLite's SQL.
//
// Durability: every method runs in its own transaction and has committed when its promise resolves. With WAL and
// synchronous=NORMAL (the default here) a commit is in the WAL file before the call returns, so it survives the
// process being killed (SIGKILL, OOM); only an OS crash or power loss can drop the last few commits. Pass
// `durability: 'full'` to fsync on every commit and survive power loss too, at a few ms per state change.
//
// better-sqlite3 is synchronous: each method does its work in one synchronous transaction (so nothing can
// interleave inside it, in this process or another: IMMEDIATE transactions take the file's write lock first) and
// returns a settled promise, so it satisfies the same async Storage contract as PostgreSQL. The one exception is a
// listing, read a page (one read transaction) at a time so the event loop is let in between (readPages). The
// storage's clock (leases, the search clock) is this machine's, which every process sharing the file also reads.
import { isFolder } from '../../files.js';
import Database from 'better-sqlite3';
import { accessSync, closeSync, constants, existsSync, openSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readStoredJson } from '../../config/stored_json.js';
import { collectPages, SLICE_ITEMS } from '../../event_loop.js';
import { DataError, RenormTuneError } from '../../errors.js';
import { shellWord } from '../../shared/names.js';
import { countsTowardBudget } from '../../shared/roles.js';
import { DatabaseFileGoneError, StaleSnapshotError, StorageFullError, StorageReadOnlyError } from '../errors.js';
import { FileIdentity } from './file_identity.js';
import { freeze, TrialLists, type ListedTrial } from './trial_lists.js';
import type {
  CreateGuard, Direction, FinishResult, IntermediateValue, Lease, LeaseRequest, NewTrial, PeerQuery, Storage, StudyRecord, StudySnapshot, StudyState,
  TrialRecord, TrialState,
} from '../types.js';
import { checkOwnSchema, migrate } from './migrations.js';
import { studyRecord, trialRecord, valuesByTrial, type StudyColumns, type TrialColumns, type ValueRow } from './records.js';
import { talliesFromRows, tallyGroupsSql, tallyPicksSql, type TallyGroupRow, type TallyPickRow } from './tallies.js';
import type { TrialTally } from '../../shared/summary.js';
import {
  checkFinish, checkIntermediate, checkSnapshot, checkLease, checkLeaseSeconds, checkNewStudy, checkNewTrial, checkStudyName,
  checkStudyState, duplicateName, freshTrials, grant, checkLeaseToken, checkReporter, newStudyId, now, reapOutcome, seedFor, studyNotFound, tickClock,
  renamedConfig, trialNotFound,
} from './rules.js';
import { isFinished } from '../../shared/attempts.js';

/** Trials per role of a study, for the budget an ask may spend (countsTowardBudget says which roles count); read from trials_by_role (migration 5). */
export const BUDGET_COUNT_SQL = 'SELECT role, COUNT(*) AS n FROM trials WHERE study_id = ? GROUP BY role';

export interface SqliteOptions {
  /** 'normal' (default) survives a killed process; 'full' also survives power loss. */
  durability?: 'normal' | 'full';
  /** Refuse to create the file: read-only commands must not leave an empty database behind. */
  mustExist?: boolean;
  /** How long to wait for another process's write lock before failing, ms. Default 5000. */
  busyTimeoutMs?: number;
  /** The lease clock, ms since the epoch (tests pass a fake one). Default Date.now. */
  clock?: () => number;
  /** Where a repaired stored value is reported. Default stderr. */
  warn?: (message: string) => void;
}

interface StudyRow extends StudyColumns { created_at: string }
interface TrialRow extends TrialColumns {
  created_at: string; started_at: string | null; finished_at: string | null; prune_requested: number; lease_expires_ms: number | null;
  /** The study revision of the row's last change (migration 4). */
  rev: number;
}

const PRUNABLE = "t.role IN ('search', 'enqueued')";

/**
 * Creates `file` readable by its owner only (0600), unless it exists. Two processes opening one new file at once
 * (two coordinators started together) both see it missing; the one that loses the exclusive create opens the
 * file the other made.
 */
export function createOwnerOnly(file: string): void {
  try {
    closeSync(openSync(file, 'wx', 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/**
 * Puts the file in WAL mode, waiting up to `timeoutMs` for other connections. On a new file every opener reads the
 * header and then asks to write it; SQLite answers the losers SQLITE_BUSY at once, without its busy handler (a
 * reader upgrading to a writer could deadlock), so the wait is ours. On a file already in WAL mode this only reads.
 */
export function enterWal(db: Database.Database, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let wait = 1; ; wait = Math.min(2 * wait, 50)) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw err;
      Atomics.wait(pause, 0, 0, wait);
    }
  }
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export class SqliteStorage implements Storage {
  readonly kind = 'sqlite';
  readonly file: string;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  /** Each listed study's trials without values, kept between listings (see listChanged). */
  private readonly lists = new TrialLists();
  private readonly clock: () => number;
  private readonly warn: (message: string) => void;
  /** Null for ':memory:'. */
  private identity: FileIdentity | null = null;
  /** Set once the file was found deleted or replaced: every later write is refused with it. */
  private gone: DatabaseFileGoneError | null = null;

  constructor(file: string, opts: SqliteOptions = {}) {
    this.file = file;
    this.clock = opts.clock ?? Date.now;
    this.warn = opts.warn ?? ((m) => process.stderr.write(`renorm-tune: ${m}\n`));
    if (opts.mustExist && file !== ':memory:' && !existsSync(file)) {
      throw new DataError(file, 'no such database file (fix: check --db, or run a study first to create it)');
    }
    // SQLite takes an empty file for an empty database and would write a schema into it: not for a command that reads.
    if (opts.mustExist && file !== ':memory:' && !isFolder(file) && statSync(file).size === 0) {
      throw new DataError(file, 'is an empty file (0 bytes), not a database yet; left as it was (fix: check --db, or run a study into it first)');
    }
    try {
      // Studies can hold private results: the file (and the -wal/-shm files SQLite gives the same mode) is the owner's only.
      if (file !== ':memory:') createOwnerOnly(file);
      this.db = new Database(file, { fileMustExist: file !== ':memory:' });
      this.db.pragma(`busy_timeout = ${Math.trunc(opts.busyTimeoutMs ?? 5000)}`);
      // The first statement that reads the file, so a non-SQLite file fails here; another application's is refused before it is touched.
      if (file !== ':memory:') checkOwnSchema(this.db, file);
      if (file !== ':memory:') enterWal(this.db, Math.trunc(opts.busyTimeoutMs ?? 5000));
      this.db.pragma(`synchronous = ${opts.durability === 'full' ? 'FULL' : 'NORMAL'}`);
      this.db.pragma('foreign_keys = ON');
      migrate(this.db, file);
      if (file !== ':memory:') this.identity = new FileIdentity(file);
    } catch (err) {
      if (err instanceof RenormTuneError) throw err;
      const code = (err as { code?: string }).code;
      if (code === 'SQLITE_NOTADB') throw new DataError(file, 'is not a SQLite database (no SQLite header), left as it was (fix: point --db at a renorm-tune database, or at a new file)');
      // createOwnerOnly's open: the folder the file would go in is missing.
      if (code === 'ENOENT' && !existsSync(dirname(file))) {
        throw new DataError(file, `cannot create it: its folder ${dirname(file)} does not exist (fix: create the folder, mkdir -p ${shellWord(dirname(file))}, or give a path in an existing one)`);
      }
      // A SQLite header over missing or broken pages: most likely ours, cut short (a full disk, a partial copy).
      if (code === 'SQLITE_CORRUPT') {
        throw new DataError(file, 'is a damaged SQLite database: SQLite reports it malformed (truncated, or corrupted on disk) ' +
          "(fix: restore it from a backup; sqlite3's .recover command may salvage what is left)");
      }
      if (code === 'SQLITE_CANTOPEN' && isFolder(file)) {
        throw new DataError(file, `is a folder, not a database file (fix: give a file name, e.g. --db ${shellWord(join(file, 'renorm-tune.db'))})`);
      }
      if ((code === 'SQLITE_CANTOPEN' || code?.startsWith('SQLITE_READONLY')) && (!writable(file) || !writable(dirname(file)))) {
        throw new DataError(file, 'cannot open it: the file or its folder is read-only to this process, and SQLite writes its -wal and -shm files ' +
          'beside the database even to read it (fix: make both writable by this user, or copy the database to a writable folder and point --db at the copy)');
      }
      throw new DataError(file, `cannot open database: ${(err as Error).message}`);
    }
  }

  /** Inside a write: an id no study has, for a new study named `name` (a ConflictError when the name is taken). */
  private newStudyIdFor(name: string): string {
    if (this.sql('SELECT 1 FROM studies WHERE name = ?').get(name)) throw duplicateName(name);
    let id = newStudyId();
    while (this.sql('SELECT 1 FROM studies WHERE id = ?').get(id)) id = newStudyId();
    return id;
  }

  async createStudy(study: { name: string; direction: Direction; config: Record<string, unknown> }): Promise<StudyRecord> {
    checkNewStudy(study);
    return this.write(() => {
      const id = this.newStudyIdFor(study.name);
      this.sql('INSERT INTO studies (id, name, direction, state, config, created_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(id, study.name, study.direction, 'CREATED', JSON.stringify(study.config), now());
      return this.studyById(id)!;
    });
  }

  async importStudy(snapshot: StudySnapshot, attrsFor?: (idOf: ReadonlyMap<number, number>) => Record<string, unknown>): Promise<StudyRecord> {
    checkSnapshot(snapshot);
    const { study } = snapshot;
    return this.write(() => {
      const id = this.newStudyIdFor(study.name);
      this.sql('INSERT INTO studies (id, name, direction, state, config, created_at, search_seconds) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(id, study.name, study.direction, study.state, JSON.stringify(study.config), study.createdAt, study.searchSeconds);
      const trial = this.sql(
        `INSERT INTO trials (study_id, number, state, role, params, schedule, seed, value, failure_reason, metrics, trial_key, created_at,
                             started_at, finished_at, prune_requested, retries)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      const point = this.sql('INSERT INTO trial_values (trial_id, step, value, metrics) VALUES (?, ?, ?, ?)');
      const idOf = new Map<number, number>();
      for (const t of snapshot.trials) {
        const trialId = trial.run(
          id, t.number, t.state, t.role, JSON.stringify(t.params), JSON.stringify(t.schedule), t.seed, t.value, t.failureReason,
          t.metrics === null ? null : JSON.stringify(t.metrics), t.key, t.createdAt, t.startedAt, t.finishedAt, t.pruneRequested ? 1 : 0, t.retries,
        ).lastInsertRowid;
        for (const v of t.intermediate) point.run(trialId, v.step, v.value, v.metrics === undefined ? null : JSON.stringify(v.metrics));
        idOf.set(t.number, Number(trialId));
      }
      const attr = this.sql('INSERT INTO study_attrs (study_id, key, value) VALUES (?, ?, ?)');
      for (const [key, value] of Object.entries(attrsFor ? attrsFor(idOf) : study.attrs)) attr.run(id, key, JSON.stringify(value ?? null));
      return this.studyById(id)!;
    });
  }

  async trialKeys(studyId: string): Promise<Map<number, string>> {
    const rows = this.sql('SELECT id, trial_key FROM trials WHERE study_id = ? AND trial_key IS NOT NULL').all(studyId) as { id: number; trial_key: string }[];
    return new Map(rows.map((r) => [r.id, r.trial_key]));
  }

  async getStudy(id: string): Promise<StudyRecord | undefined> {
    return this.studyById(id);
  }

  async findStudyByName(name: string): Promise<StudyRecord | undefined> {
    const row = this.sql('SELECT * FROM studies WHERE name = ?').get(name) as StudyRow | undefined;
    return row && this.toStudy(row);
  }

  async listStudies(): Promise<StudyRecord[]> {
    const rows = this.sql('SELECT * FROM studies ORDER BY created_at, rowid').all() as StudyRow[];
    return rows.map((r) => this.toStudy(r));
  }

  async trialTallies(studyId?: string): Promise<Map<string, TrialTally>> {
    const only = studyId === undefined ? undefined : '?';
    const args = studyId === undefined ? [] : [studyId];
    // One read transaction: the counts and the picks describe the same moment.
    return this.db.transaction(() =>
      talliesFromRows(
        this.sql(tallyGroupsSql('', only)).all(...args) as TallyGroupRow[],
        this.sql(tallyPicksSql('', only)).all(...args) as TallyPickRow[],
      ))();
  }

  async setStudyState(id: string, state: StudyState, attrs: Readonly<Record<string, unknown>> = {}): Promise<void> {
    checkStudyState(state);
    this.write(() => {
      if (!this.sql('SELECT 1 FROM studies WHERE id = ?').get(id)) throw studyNotFound(id);
      this.sql('UPDATE studies SET state = ? WHERE id = ? AND state <> ?').run(state, id, state);
      for (const [key, value] of Object.entries(attrs)) this.putStudyAttr(id, key, value);
    });
  }

  async setStudyAttr(id: string, key: string, value: unknown): Promise<void> {
    this.write(() => {
      this.requireStudy(id);
      this.putStudyAttr(id, key, value);
    });
  }

  private putStudyAttr(id: string, key: string, value: unknown): void {
    // undefined would vanish from JSON; store null so the key still reads back.
    this.sql('INSERT INTO study_attrs (study_id, key, value) VALUES (?, ?, ?) ON CONFLICT (study_id, key) DO UPDATE SET value = excluded.value')
      .run(id, key, JSON.stringify(value ?? null));
  }

  async renameStudy(id: string, name: string): Promise<void> {
    checkStudyName(name);
    this.write(() => {
      this.requireStudy(id);
      const other = this.sql('SELECT id FROM studies WHERE name = ?').get(name) as { id: string } | undefined;
      if (other && other.id !== id) throw duplicateName(name);
      this.sql('UPDATE studies SET name = ? WHERE id = ?').run(name, id);
      const config = renamedConfig(this.requireStudy(id).config, name);
      if (config) this.sql('UPDATE studies SET config = ? WHERE id = ?').run(JSON.stringify(config), id);
    });
  }

  async updateStudyConfig(id: string, edit: (config: Record<string, unknown>) => Record<string, unknown>): Promise<void> {
    this.write(() => {
      const s = this.requireStudy(id);
      const config = edit(s.config);
      checkNewStudy({ name: s.name, direction: s.direction, config });
      this.sql('UPDATE studies SET config = ? WHERE id = ?').run(JSON.stringify(config), id);
    });
  }

  async deleteStudy(id: string): Promise<void> {
    this.write(() => {
      this.requireStudy(id);
      // ON DELETE CASCADE removes attrs, trials and their values in the same transaction.
      this.sql('DELETE FROM studies WHERE id = ?').run(id);
    });
    this.lists.forget(id);
  }

  async tickSearchClock(id: string, gapSeconds: number): Promise<number> {
    return this.write(() => {
      const row = this.sql('SELECT search_seconds, clock_tick_ms FROM studies WHERE id = ?').get(id) as { search_seconds: number; clock_tick_ms: number | null } | undefined;
      if (!row) throw studyNotFound(id);
      const next = tickClock({ seconds: row.search_seconds, lastTickMs: row.clock_tick_ms }, this.clock(), gapSeconds);
      this.sql('UPDATE studies SET search_seconds = ?, clock_tick_ms = ? WHERE id = ?').run(next.seconds, next.lastTickMs, id);
      return next.seconds;
    });
  }

  async createTrials(studyId: string, trials: NewTrial[], guard: CreateGuard = {}): Promise<TrialRecord[]> {
    trials.forEach(checkNewTrial);
    return this.write(() => {
      const study = this.requireStudy(studyId);
      const next = (this.sql('SELECT COALESCE(MAX(number), -1) + 1 AS n FROM trials WHERE study_id = ?').get(studyId) as { n: number }).n;
      if (guard.snapshot !== undefined && guard.snapshot !== next) throw new StaleSnapshotError(studyId, guard.snapshot, next);
      const keyTaken = this.sql('SELECT 1 FROM trials WHERE study_id = ? AND trial_key = ?');
      const fresh = freshTrials(trials, (key) => keyTaken.get(studyId, key) !== undefined);
      let counted = 0;
      if (guard.budget !== undefined) {
        for (const r of this.sql(BUDGET_COUNT_SQL).all(studyId) as { role: string; n: number }[]) {
          if (countsTowardBudget(r.role)) counted += r.n;
        }
      }
      const n = grant(study.name, fresh, counted, guard.budget);
      const insert = this.sql(
        `INSERT INTO trials (study_id, number, state, role, params, schedule, seed, value, metrics, trial_key, created_at, started_at, finished_at,
                             lease_owner, lease_token, lease_expires_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      const at = now();
      const ids = fresh.slice(0, n).map((t, i) => {
        const lease = t.state === 'RUNNING' ? t.lease! : null;
        const finished = isFinished(t.state);
        return Number(insert.run(
          studyId, next + i, t.state, t.role, JSON.stringify(t.params), JSON.stringify(t.schedule), seedFor(t, study.config, next + i),
          finished ? (t.value ?? null) : null, t.metrics == null ? null : JSON.stringify(t.metrics), t.key ?? null, at,
          t.state === 'WAITING' ? null : at, finished ? at : null,
          lease?.owner ?? null, lease ? 1 : 0, lease ? this.clock() + lease.seconds * 1000 : null,
        ).lastInsertRowid);
      });
      return ids.map((id) => this.trialById(studyId, id)!);
    });
  }

  async getTrial(studyId: string, trialId: number): Promise<TrialRecord | undefined> {
    return this.db.transaction(() => this.trialById(studyId, trialId))();
  }

  async trialIdByNumber(studyId: string, number: number): Promise<number | undefined> {
    const row = this.sql('SELECT id FROM trials WHERE study_id = ? AND number = ?').get(studyId, number) as { id: number } | undefined;
    return row?.id;
  }

  async listTrials(studyId: string, opts: { states?: readonly TrialState[]; withIntermediate?: boolean } = {}): Promise<TrialRecord[]> {
    const states = opts.states;
    if (states && states.length === 0) return [];
    if (opts.withIntermediate === false) {
      const all = await this.listChanged(studyId);
      return states ? all.filter((t) => states.includes(t.state)) : all;
    }
    const filter = states ? { sql: ` AND t.state IN (${states.map(() => '?').join(', ')})`, params: states } : undefined;
    if (filter) {
      const few = this.fewInStates(studyId, filter);
      if (few) return few;
    }
    return (await this.readPages(studyId, { by: 'number', after: -1, withValues: true, ...(filter ? { filter } : {}) })).map((t) => t.record);
  }

  /**
   * The trials in a few states (a runner's WAITING ones, a reaper's RUNNING ones) with their values, read at once by
   * the (study_id, state) index when at most SLICE_ITEMS match; null when more do (they are paged). Paged in number
   * order, the filter stepped through every trial of the study to find them: 42-111 ms of the event loop at 100,000.
   */
  private fewInStates(studyId: string, filter: { sql: string; params: readonly unknown[] }): TrialRecord[] | null {
    return this.db.transaction(() => {
      const rows = this.sql(`SELECT * FROM trials t INDEXED BY trials_by_study_state WHERE t.study_id = ?${filter.sql} LIMIT ${SLICE_ITEMS + 1}`)
        .all(studyId, ...filter.params) as TrialRow[];
      if (rows.length > SLICE_ITEMS) return null;
      rows.sort((a, b) => a.number - b.number);
      const byTrial = valuesByTrial(rows.length === 0 ? [] : this.sql(`SELECT v.* FROM trials t INDEXED BY trials_by_study_state
          JOIN trial_values v ON v.trial_id = t.id WHERE t.study_id = ?${filter.sql} ORDER BY v.trial_id, v.step`)
        .all(studyId, ...filter.params) as ValueRow[]);
      return rows.map((r) => this.toTrial(r, byTrial.get(r.id) ?? []));
    })();
  }

  /**
   * The study's trials without values: those changed since this connection last listed it (trials.rev, by its index)
   * and the RUNNING ones (a heartbeat moves a lease without a revision), merged into the copy in `lists`. The study's
   * revision is read first, so a change committed while the pages are read is read again next time.
   */
  private async listChanged(studyId: string): Promise<TrialRecord[]> {
    const since = this.lists.since(studyId);
    const study = this.sql('SELECT revision FROM studies WHERE id = ?').get(studyId) as { revision: number } | undefined;
    if (!study) {
      this.lists.forget(studyId);
      return [];
    }
    if (since < 0) return this.lists.merge(studyId, study.revision, await this.readPages(studyId, { by: 'number', after: -1, frozen: true }));
    // Each change stamps its own revision, so revisions above `since` page exactly.
    const changed = await this.readPages(studyId, { by: 'rev', after: since, frozen: true });
    const running = (this.sql("SELECT * FROM trials t WHERE t.study_id = ? AND t.state = 'RUNNING'").all(studyId) as TrialRow[])
      .map((r) => ({ record: freeze(this.toTrial(r, [])), rev: r.rev }));
    return this.lists.merge(studyId, study.revision, [...changed, ...running]);
  }

  /**
   * The study's trials after `after` in `by` order (and matching `filter`, SQL on `t` and its parameters), SLICE_ITEMS
   * per read transaction (fewer when they carry many values: collectPages; a page's trials and their values from one
   * snapshot), with the event loop let in between:
   * better-sqlite3 blocks while it reads. A trial changed between pages is listed once, as its page saw it; one
   * created meanwhile is listed if its page is still to come. `frozen`: records for the shared copy, frozen here a
   * page at a time. Values are read only by number.
   */
  private async readPages(
    studyId: string,
    o: { by: 'number' | 'rev'; after: number; filter?: { sql: string; params: readonly unknown[] }; withValues?: boolean; frozen?: boolean },
  ): Promise<ListedTrial[]> {
    const filter = o.filter ?? { sql: '', params: [] };
    const withValues = o.withValues === true && o.by === 'number';
    const page = this.db.transaction((after: number, n: number) => {
      const rows = this.sql(`SELECT * FROM trials t WHERE t.study_id = ? AND t.${o.by} > ?${filter.sql} ORDER BY t.${o.by} LIMIT ?`)
        .all(studyId, after, ...filter.params, n) as TrialRow[];
      const values = withValues && rows.length > 0
        ? this.sql(`SELECT v.* FROM trial_values v JOIN trials t ON t.id = v.trial_id
            WHERE t.study_id = ? AND t.number >= ? AND t.number <= ?${filter.sql} ORDER BY v.trial_id, v.step`)
          .all(studyId, rows[0]!.number, rows[rows.length - 1]!.number, ...filter.params) as ValueRow[]
        : [];
      const byTrial = valuesByTrial(values);
      const items = rows.map((r) => {
        const record = this.toTrial(r, byTrial.get(r.id) ?? []);
        return { record: o.frozen ? freeze(record) : record, rev: r.rev };
      });
      return { items, last: rows[rows.length - 1]?.[o.by], rows: values.length };
    });
    return collectPages(o.after, SLICE_ITEMS, withValues ? 1 : SLICE_ITEMS, page);
  }

  async claimTrial(studyId: string, trialId: number, lease: LeaseRequest): Promise<Lease | null> {
    checkLease(lease, 'lease');
    return this.write(() => {
      const row = this.trialRow(studyId, trialId);
      if (row.state !== 'WAITING') return null;
      const token = row.lease_token + 1;
      const expires = this.clock() + lease.seconds * 1000;
      this.sql("UPDATE trials SET state = 'RUNNING', started_at = ?, lease_owner = ?, lease_token = ?, lease_expires_ms = ? WHERE id = ?")
        .run(now(), lease.owner, token, expires, trialId);
      return { owner: lease.owner, token, expiresAt: new Date(expires).toISOString() };
    });
  }

  async renewLease(studyId: string, trialId: number, token: number, seconds: number): Promise<Lease> {
    checkLeaseSeconds(seconds, 'seconds');
    return this.write(() => {
      const row = this.trialRow(studyId, trialId);
      this.checkToken(row, token);
      const expires = this.extend(trialId, seconds);
      return { owner: row.lease_owner!, token, expiresAt: new Date(expires).toISOString() };
    });
  }

  async releaseTrial(studyId: string, trialId: number, token: number): Promise<boolean> {
    return this.write(() => {
      const row = this.trialRow(studyId, trialId);
      if (row.state !== 'RUNNING' || row.lease_token !== token) return false;
      this.sql("UPDATE trials SET state = 'WAITING', started_at = NULL, lease_owner = NULL, lease_expires_ms = NULL, prune_requested = 0 WHERE id = ?").run(trialId);
      this.forgetAttempt(trialId);
      return true;
    });
  }

  async reapExpiredLeases(studyId: string, opts: { maxRetries: number; deadOwners?: string[] }): Promise<TrialRecord[]> {
    return this.write(() => {
      this.requireStudy(studyId);
      const dead = opts.deadOwners ?? [];
      const rows = this.sql(
        `SELECT * FROM trials WHERE study_id = ? AND state = 'RUNNING'
           AND (lease_expires_ms IS NULL OR lease_expires_ms <= ? OR lease_owner IN (SELECT value FROM json_each(?)))`,
      ).all(studyId, this.clock(), JSON.stringify(dead)) as TrialRow[];
      for (const r of rows) {
        const outcome = reapOutcome({ retries: r.retries, owner: r.lease_owner }, opts.maxRetries, dead.includes(r.lease_owner ?? ''));
        if (outcome.state === 'WAITING') {
          this.sql("UPDATE trials SET state = 'WAITING', started_at = NULL, retries = retries + 1, lease_owner = NULL, lease_expires_ms = NULL, prune_requested = 0 WHERE id = ?").run(r.id);
          this.forgetAttempt(r.id);
        } else {
          this.sql("UPDATE trials SET state = 'FAIL', failure_reason = ?, finished_at = ?, lease_owner = NULL, lease_expires_ms = NULL WHERE id = ?")
            .run(outcome.reason, now(), r.id);
        }
      }
      return rows.map((r) => this.trialById(studyId, r.id)!);
    });
  }

  /** A trial back in the queue starts over (Storage.releaseTrial). */
  private forgetAttempt(trialId: number): void {
    this.sql('DELETE FROM trial_values WHERE trial_id = ?').run(trialId);
  }

  async addIntermediate(studyId: string, trialId: number, value: IntermediateValue, opts: { token?: number; renewSeconds?: number } = {}): Promise<{ kept: number } | null> {
    checkIntermediate(value);
    if (opts.renewSeconds !== undefined) checkLeaseSeconds(opts.renewSeconds, 'renewSeconds');
    return this.write(() => {
      const row = this.trialRow(studyId, trialId);
      checkReporter(row.number, row.state, row.lease_token, opts.token, row.failure_reason);
      if (opts.renewSeconds !== undefined && row.state === 'RUNNING') this.extend(trialId, opts.renewSeconds);
      const added = this.sql('INSERT OR IGNORE INTO trial_values (trial_id, step, value, metrics) VALUES (?, ?, ?, ?)')
        .run(trialId, value.step, value.value, value.metrics == null ? null : JSON.stringify(value.metrics));
      if (added.changes > 0) return null;
      return { kept: (this.sql('SELECT value FROM trial_values WHERE trial_id = ? AND step = ?').get(trialId, value.step) as { value: number }).value };
    });
  }

  async requestPrune(studyId: string, trialId: number): Promise<void> {
    this.write(() => {
      this.trialRow(studyId, trialId);
      this.sql('UPDATE trials SET prune_requested = 1 WHERE id = ? AND prune_requested = 0').run(trialId);
    });
  }

  async peerValues(studyId: string, q: PeerQuery): Promise<number[]> {
    const states = q.states ? ` AND t.state IN (${q.states.map(() => '?').join(', ')})` : '';
    const peers = [studyId, q.exceptTrialId ?? -1, ...(q.states ?? [])];
    // Per trial one primary-key probe of trial_values: cheap however many reports the study holds.
    const rows = (q.mode === 'at'
      ? this.sql(`SELECT v.value FROM trials t JOIN trial_values v ON v.trial_id = t.id
                  WHERE t.study_id = ? AND t.id <> ? AND ${PRUNABLE}${states} AND v.step = ?`).all(...peers, q.step)
      : this.sql(`SELECT (SELECT v.value FROM trial_values v WHERE v.trial_id = t.id AND v.step >= ? ORDER BY v.step LIMIT 1) AS value
                  FROM trials t WHERE t.study_id = ? AND t.id <> ? AND ${PRUNABLE}${states}`).all(q.step, ...peers)) as { value: number | null }[];
    return rows.filter((r) => r.value !== null).map((r) => r.value!);
  }

  async finishTrial(studyId: string, trialId: number, result: FinishResult, opts: { token?: number; honourPrune?: boolean } = {}): Promise<TrialRecord> {
    checkFinish(result);
    // IMMEDIATE takes the write lock before reading the state, so two finishers (threads or processes) serialise
    // and the second one sees the first one's terminal state.
    return this.write(() => {
      const row = this.trialRow(studyId, trialId);
      checkReporter(row.number, row.state, row.lease_token, opts.token, row.failure_reason);
      const at = now();
      const state = result.state === 'COMPLETE' && opts.honourPrune && row.prune_requested ? 'PRUNED' : result.state;
      this.sql(
        `UPDATE trials SET state = ?, value = ?, failure_reason = ?, metrics = ?, finished_at = ?, started_at = COALESCE(started_at, ?),
                lease_owner = NULL, lease_expires_ms = NULL
         WHERE id = ?`,
      ).run(state, result.value ?? null, result.failureReason ?? null, result.metrics == null ? null : JSON.stringify(result.metrics), at, at, trialId);
      return this.trialById(studyId, trialId)!;
    });
  }

  /** The trigger-maintained `revision` (migration 2): one indexed read, so polling it every second costs nothing. */
  async changeStamp(studyId: string): Promise<number> {
    const row = this.sql('SELECT revision FROM studies WHERE id = ?').get(studyId) as { revision: number } | undefined;
    if (!row) throw studyNotFound(studyId);
    return row.revision;
  }

  async changeStamps(): Promise<Map<string, number>> {
    const rows = this.sql('SELECT id, revision FROM studies').all() as { id: string; revision: number }[];
    return new Map(rows.map((r) => [r.id, r.revision]));
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  /** One IMMEDIATE transaction: the write lock first, so the checks and the write see the same state. */
  private write<T>(fn: () => T): T {
    this.checkFileIsOurs();
    try {
      return this.db.transaction(fn).immediate();
    } catch (err) {
      // SQLite rolled the transaction back: say which file and what to do, not the driver's bare "database or disk is full".
      if ((err as { code?: string }).code === 'SQLITE_FULL') throw new StorageFullError(this.file);
      if (['SQLITE_READONLY', 'SQLITE_READONLY_DIRECTORY'].includes((err as { code?: string }).code ?? '')) throw new StorageReadOnlyError(this.file, 'the file or its folder is not writable', 'make both writable by this user');
      throw err;
    }
  }

  /**
   * Before each write, a stat of the file and its -wal (microseconds): once either was deleted or replaced, this
   * connection alone still sees the data, so it is copied out once (VACUUM INTO, beside the file) and every write is
   * refused with where the copy is, rather than going on into a file no one can open again.
   */
  private checkFileIsOurs(): void {
    if (this.gone) throw this.gone;
    const how = this.identity?.lost();
    if (!how) return;
    const recovered = `${this.file}.recovered-${new Date(this.clock()).toISOString().replace(/[:.]/g, '-')}.db`;
    try {
      createOwnerOnly(recovered); // private like the database itself (VACUUM INTO fills an empty file)
      this.db.exec(`VACUUM INTO '${recovered.replace(/'/g, "''")}'`);
      this.gone = new DatabaseFileGoneError(this.file, how, recovered);
    } catch (err) {
      this.gone = new DatabaseFileGoneError(this.file, how, null, (err as Error).message);
    }
    this.warn(this.gone.message);
    throw this.gone;
  }

  /** Statements are compiled once per connection: the runner calls listTrials on every progress report. */
  private sql(text: string): Database.Statement {
    let stmt = this.statements.get(text);
    if (!stmt) this.statements.set(text, (stmt = this.db.prepare(text)));
    return stmt;
  }

  private requireStudy(id: string): StudyRecord {
    const s = this.studyById(id);
    if (!s) throw studyNotFound(id);
    return s;
  }

  private studyById(id: string): StudyRecord | undefined {
    const row = this.sql('SELECT * FROM studies WHERE id = ?').get(id) as StudyRow | undefined;
    return row && this.toStudy(row);
  }

  private trialRow(studyId: string, trialId: number): TrialRow {
    const row = this.sql('SELECT * FROM trials WHERE id = ? AND study_id = ?').get(trialId, studyId) as TrialRow | undefined;
    if (!row) throw trialNotFound(studyId, trialId);
    return row;
  }

  private trialById(studyId: string, trialId: number): TrialRecord | undefined {
    const row = this.sql('SELECT * FROM trials WHERE id = ? AND study_id = ?').get(trialId, studyId) as TrialRow | undefined;
    if (!row) return undefined;
    const values = this.sql('SELECT * FROM trial_values WHERE trial_id = ? ORDER BY step').all(trialId) as ValueRow[];
    return this.toTrial(row, values);
  }

  private checkToken(row: TrialRow, token: number): void {
    checkLeaseToken(row.number, row.state, row.lease_token, token);
  }

  private extend(trialId: number, seconds: number): number {
    const expires = this.clock() + seconds * 1000;
    this.sql('UPDATE trials SET lease_expires_ms = ? WHERE id = ?').run(expires, trialId);
    return expires;
  }

  /** Nothing ever stored can make a read fail: a value too deep is cut down, an unreadable one skipped, with a warning. */
  private json<T>(text: string, what: string, fallback: T): T {
    return readStoredJson(text, { where: `${this.file}: ${what}`, warn: this.warn, fallback }) as T;
  }

  private toStudy(row: StudyRow): StudyRecord {
    const attrs = this.sql('SELECT key, value FROM study_attrs WHERE study_id = ? ORDER BY key').all(row.id) as { key: string; value: string }[];
    return studyRecord(row, attrs, (text, what, fallback) => this.json(text, what, fallback), row.created_at);
  }

  private toTrial(row: TrialRow, values: ValueRow[]): TrialRecord {
    return trialRecord(row, values, (text, what, fallback) => this.json(text, what, fallback), {
      createdAt: row.created_at,
      startedAt: row.started_at,
      finishedAt: row.finished_at,
      leaseExpiresAt: new Date(row.lease_expires_ms ?? 0).toISOString(),
      pruneRequested: row.prune_requested === 1,
    });
  }
}
