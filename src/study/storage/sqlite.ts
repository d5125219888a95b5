// The embedded Storage: one SQLite file (better-sqlite3, WAL), the only module that speaks SQL.
//
// Durability: every method runs in its own transaction and has committed when it returns. With WAL and
// synchronous=NORMAL (the default here) a commit is in the WAL file before the call returns, so it survives the
// process being killed (SIGKILL, OOM); only an OS crash or power loss can drop the last few commits. Pass
// `durability: 'full'` to fsync on every commit and survive power loss too, at a few ms per state change.
//
// Why synchronous: better-sqlite3 is synchronous and a local study makes a few writes per trial, so blocking for
// microseconds is simpler than async plumbing. A PostgreSQL backend (planned distributed mode) cannot be sync:
// node-postgres only has a Promise API. It would implement an `AsyncStorage` with these same methods returning
// Promises (the service awaits them; awaiting a sync value costs nothing, so the service can move first), use
// `SELECT ... FOR UPDATE` / `UPDATE ... WHERE state = 'RUNNING' RETURNING *` for the compare-and-sets below,
// BIGSERIAL ids, JSONB columns and TIMESTAMPTZ instead of ISO text. Nothing outside this directory touches SQL.
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { DataError, RenormTuneError } from '../../errors.js';
import type { Direction, IntermediateValue, NewTrial, Storage, StudyRecord, StudyState, TrialRecord, TrialState } from '../types.js';
import { migrate } from './migrations.js';
import {
  alreadyFinished, checkFinish, checkIntermediate, checkNewStudy, checkNewTrial, checkStudyState, duplicateName,
  type FinishResult, isFinished, newStudyId, now, studyNotFound, trialNotFound,
} from './rules.js';

export interface SqliteOptions {
  /** 'normal' (default) survives a killed process; 'full' also survives power loss. */
  durability?: 'normal' | 'full';
  /** Refuse to create the file: read-only commands must not leave an empty database behind. */
  mustExist?: boolean;
  /** How long to wait for another process's write lock before failing, ms. Default 5000. */
  busyTimeoutMs?: number;
}

interface StudyRow { id: string; name: string; direction: Direction; state: StudyState; config: string; created_at: string }
interface TrialRow {
  id: number; study_id: string; number: number; state: TrialState; params: string; schedule: string; label: string | null;
  value: number | null; failure_reason: string | null; seed: number; metrics: string | null;
  created_at: string; started_at: string | null; finished_at: string | null;
}
interface ValueRow { trial_id: number; step: number; value: number; metrics: string | null }

export class SqliteStorage implements Storage {
  readonly file: string;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(file: string, opts: SqliteOptions = {}) {
    this.file = file;
    if (opts.mustExist && file !== ':memory:' && !existsSync(file)) {
      throw new DataError(file, 'no such database file (fix: check --db, or run a study first to create it)');
    }
    try {
      this.db = new Database(file, { fileMustExist: opts.mustExist === true && file !== ':memory:' });
      this.db.pragma(`busy_timeout = ${Math.trunc(opts.busyTimeoutMs ?? 5000)}`);
      // journal_mode is the first statement that reads the file, so a non-SQLite file fails here.
      if (file !== ':memory:') this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${opts.durability === 'full' ? 'FULL' : 'NORMAL'}`);
      this.db.pragma('foreign_keys = ON');
      migrate(this.db, file);
    } catch (err) {
      if (err instanceof RenormTuneError) throw err;
      const code = (err as { code?: string }).code;
      if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') throw new DataError(file, 'is not a renorm-tune SQLite database');
      throw new DataError(file, `cannot open database: ${(err as Error).message}`);
    }
  }

  createStudy(study: { name: string; direction: Direction; config: Record<string, unknown> }): StudyRecord {
    checkNewStudy(study);
    return this.db.transaction(() => {
      if (this.sql('SELECT 1 FROM studies WHERE name = ?').get(study.name)) throw duplicateName(study.name);
      let id = newStudyId();
      while (this.sql('SELECT 1 FROM studies WHERE id = ?').get(id)) id = newStudyId();
      this.sql('INSERT INTO studies (id, name, direction, state, config, created_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(id, study.name, study.direction, 'CREATED', JSON.stringify(study.config), now());
      return this.getStudy(id)!;
    }).immediate();
  }

  getStudy(id: string): StudyRecord | undefined {
    const row = this.sql('SELECT * FROM studies WHERE id = ?').get(id) as StudyRow | undefined;
    return row && this.toStudy(row);
  }

  findStudyByName(name: string): StudyRecord | undefined {
    const row = this.sql('SELECT * FROM studies WHERE name = ?').get(name) as StudyRow | undefined;
    return row && this.toStudy(row);
  }

  listStudies(): StudyRecord[] {
    const rows = this.sql('SELECT * FROM studies ORDER BY created_at, rowid').all() as StudyRow[];
    return rows.map((r) => this.toStudy(r));
  }

  setStudyState(id: string, state: StudyState): void {
    checkStudyState(state);
    const info = this.sql('UPDATE studies SET state = ? WHERE id = ?').run(state, id);
    if (info.changes === 0) throw studyNotFound(id);
  }

  setStudyAttr(id: string, key: string, value: unknown): void {
    this.db.transaction(() => {
      if (!this.sql('SELECT 1 FROM studies WHERE id = ?').get(id)) throw studyNotFound(id);
      // undefined would vanish from JSON; store null so the key still reads back.
      this.sql('INSERT INTO study_attrs (study_id, key, value) VALUES (?, ?, ?) ON CONFLICT (study_id, key) DO UPDATE SET value = excluded.value')
        .run(id, key, JSON.stringify(value ?? null));
    }).immediate();
  }

  createTrials(studyId: string, trials: NewTrial[]): TrialRecord[] {
    trials.forEach(checkNewTrial);
    return this.db.transaction(() => {
      if (!this.sql('SELECT 1 FROM studies WHERE id = ?').get(studyId)) throw studyNotFound(studyId);
      const next = this.sql('SELECT COALESCE(MAX(number), -1) + 1 AS n FROM trials WHERE study_id = ?').get(studyId) as { n: number };
      const insert = this.sql(
        `INSERT INTO trials (study_id, number, state, params, schedule, label, seed, created_at, started_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      const at = now();
      const ids = trials.map((t, i) =>
        Number(
          insert.run(studyId, next.n + i, t.state, JSON.stringify(t.params), JSON.stringify(t.schedule), t.label ?? null, t.seed, at,
            t.state === 'RUNNING' ? at : null).lastInsertRowid,
        ),
      );
      return ids.map((id) => this.getTrial(studyId, id)!);
    }).immediate();
  }

  getTrial(studyId: string, trialId: number): TrialRecord | undefined {
    return this.db.transaction(() => {
      const row = this.sql('SELECT * FROM trials WHERE id = ? AND study_id = ?').get(trialId, studyId) as TrialRow | undefined;
      if (!row) return undefined;
      const values = this.sql('SELECT * FROM trial_values WHERE trial_id = ? ORDER BY step').all(trialId) as ValueRow[];
      return toTrial(row, values);
    })();
  }

  /** Ordered by `number`. Intermediate values are included unless `withIntermediate: false`. */
  listTrials(studyId: string, opts: { states?: TrialState[]; withIntermediate?: boolean } = {}): TrialRecord[] {
    const states = opts.states;
    if (states && states.length === 0) return [];
    const inStates = states ? ` AND t.state IN (${states.map(() => '?').join(', ')})` : '';
    // One read transaction: trials and their values come from the same snapshot even while another process writes.
    return this.db.transaction(() => {
      const rows = this.sql(`SELECT * FROM trials t WHERE t.study_id = ?${inStates} ORDER BY t.number`).all(studyId, ...(states ?? [])) as TrialRow[];
      const byTrial = new Map<number, ValueRow[]>();
      if (opts.withIntermediate !== false && rows.length > 0) {
        const values = this.sql(`SELECT v.* FROM trial_values v JOIN trials t ON t.id = v.trial_id WHERE t.study_id = ?${inStates} ORDER BY v.trial_id, v.step`)
          .all(studyId, ...(states ?? [])) as ValueRow[];
        for (const v of values) {
          const list = byTrial.get(v.trial_id);
          if (list) list.push(v);
          else byTrial.set(v.trial_id, [v]);
        }
      }
      return rows.map((r) => toTrial(r, byTrial.get(r.id) ?? []));
    })();
  }

  startTrial(studyId: string, trialId: number): boolean {
    // The WHERE clause is the compare-and-set: of two callers, only one sees changes === 1.
    const info = this.sql("UPDATE trials SET state = 'RUNNING', started_at = ? WHERE id = ? AND study_id = ? AND state = 'WAITING'")
      .run(now(), trialId, studyId);
    if (info.changes === 1) return true;
    if (!this.sql('SELECT 1 FROM trials WHERE id = ? AND study_id = ?').get(trialId, studyId)) throw trialNotFound(studyId, trialId);
    return false;
  }

  /** A repeated step keeps the first value (as Optuna does), so a retried report cannot rewrite what a pruner already saw. */
  addIntermediate(studyId: string, trialId: number, value: IntermediateValue): void {
    checkIntermediate(value);
    this.db.transaction(() => {
      const row = this.sql('SELECT state FROM trials WHERE id = ? AND study_id = ?').get(trialId, studyId) as { state: TrialState } | undefined;
      if (!row) throw trialNotFound(studyId, trialId);
      if (isFinished(row.state)) throw alreadyFinished(trialId, row.state);
      this.sql('INSERT OR IGNORE INTO trial_values (trial_id, step, value, metrics) VALUES (?, ?, ?, ?)')
        .run(trialId, value.step, value.value, value.metrics == null ? null : JSON.stringify(value.metrics));
    }).immediate();
  }

  finishTrial(studyId: string, trialId: number, result: FinishResult): TrialRecord {
    checkFinish(result);
    // IMMEDIATE takes the write lock before reading the state, so two finishers (threads or processes) serialise
    // and the second one sees the first one's terminal state.
    return this.db.transaction(() => {
      const row = this.sql('SELECT state FROM trials WHERE id = ? AND study_id = ?').get(trialId, studyId) as { state: TrialState } | undefined;
      if (!row) throw trialNotFound(studyId, trialId);
      if (isFinished(row.state)) throw alreadyFinished(trialId, row.state);
      const at = now();
      this.sql(
          `UPDATE trials SET state = ?, value = ?, failure_reason = ?, metrics = ?, finished_at = ?, started_at = COALESCE(started_at, ?)
           WHERE id = ?`,
        )
        .run(result.state, result.value ?? null, result.failureReason ?? null,
          result.metrics == null ? null : JSON.stringify(result.metrics), at, at, trialId);
      return this.getTrial(studyId, trialId)!;
    }).immediate();
  }

  requeueRunning(studyId: string): number {
    return this.sql("UPDATE trials SET state = 'WAITING', started_at = NULL WHERE study_id = ? AND state = 'RUNNING'")
      .run(studyId).changes;
  }

  /** The trigger-maintained `revision` (migration 2): one indexed read, so polling it every second costs nothing. */
  changeStamp(studyId: string): number {
    const row = this.sql('SELECT revision FROM studies WHERE id = ?').get(studyId) as { revision: number } | undefined;
    if (!row) throw studyNotFound(studyId);
    return row.revision;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Statements are compiled once per connection: the runner calls listTrials on every progress report. */
  private sql(text: string): Database.Statement {
    let stmt = this.statements.get(text);
    if (!stmt) this.statements.set(text, (stmt = this.db.prepare(text)));
    return stmt;
  }

  private toStudy(row: StudyRow): StudyRecord {
    const attrs: Record<string, unknown> = {};
    const rows = this.sql('SELECT key, value FROM study_attrs WHERE study_id = ? ORDER BY key').all(row.id) as { key: string; value: string }[];
    for (const a of rows) attrs[a.key] = JSON.parse(a.value);
    return { id: row.id, name: row.name, direction: row.direction, state: row.state, config: JSON.parse(row.config), attrs, createdAt: row.created_at };
  }
}

function toTrial(row: TrialRow, values: ValueRow[]): TrialRecord {
  return {
    id: row.id,
    studyId: row.study_id,
    number: row.number,
    state: row.state,
    params: JSON.parse(row.params),
    schedule: JSON.parse(row.schedule),
    label: row.label,
    value: row.value,
    failureReason: row.failure_reason,
    seed: row.seed,
    metrics: row.metrics === null ? null : JSON.parse(row.metrics),
    intermediate: values.map((v) => (v.metrics === null ? { step: v.step, value: v.value } : { step: v.step, value: v.value, metrics: JSON.parse(v.metrics) })),
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}
