// The shared Storage: PostgreSQL through one node-postgres pool per process, the only module that speaks PostgreSQL's SQL.
//
// Serialising writers: every write to a study runs in one short READ COMMITTED transaction that first locks the
// study's row (SELECT ... FOR UPDATE), then checks and writes. Writers of one study (claims, finishes, reaps,
// budget-guarded inserts, clock ticks, from any process or machine) thus queue on that row the way SQLite's
// IMMEDIATE transactions queue on the file, and each reads the state its predecessor committed. Taking the study
// row first everywhere is also the one lock order, so the revision triggers (which update the study row) cannot
// deadlock against a cascade delete. Writers of different studies never wait for each other. The one exception
// is a lease renewal: it locks only its trial's row, so heartbeats do not queue behind the study's other writers.
//
// The clock is the server's: lease expiries, the search clock and every timestamp come from statement_timestamp(),
// taken after the lock was granted, so machines whose clocks disagree still agree on who holds a lease.
import { createHash } from 'node:crypto';
import pg from 'pg';
import type { PoolClient } from 'pg';
import { ConfigError } from '../../errors.js';
import { countsTowardBudget } from '../../shared/roles.js';
import { StaleSnapshotError, StorageOutcomeUnknownError } from '../errors.js';
import type {
  CreateGuard, Direction, FinishResult, IntermediateValue, Lease, LeaseRequest, NewTrial, PeerQuery, Storage, StudyRecord, StudySnapshot, StudyState,
  SnapshotTrial, TrialRecord, TrialState,
} from '../types.js';
import { readStoredJson } from '../../config/stored_json.js';
import { ACQUIRE_TIMEOUT_MS, connectError, redactUrl, resolveConfig, scrub, SESSION_KEEPALIVE_SQL, type PgOptions } from './pg_connect.js';
import { CHANGE_CHANNEL, migrate, readSchemaInfo, SCHEMA, type SchemaInfo } from './pg_migrations.js';
import { storageError, sqlState } from './pg_errors.js';
import { ChangeFeed } from './pg_notify.js';
import { describeHolder, lockHolder, tryLock, WaitedOut } from './pg_lock_holder.js';
import { beginWithId, commitOutcome, noteSession, sessionEnded, sessionOf } from './pg_commit_outcome.js';
import { freeze, TrialLists, type ListedTrial } from './trial_lists.js';
import { collectPages, mapInSlices, SLICE_ITEMS, type Page } from '../../event_loop.js';
import { toStudy, toTrial, type StoredJson, type StudyRow, type TrialRow, type ValueRow } from './pg_rows.js';
import { valuesByTrial } from './records.js';
import { talliesFromRows, tallyGroupsSql, tallyPicksSql, type TallyGroupRow, type TallyPickRow } from './tallies.js';
import type { TrialTally } from '../../shared/summary.js';
import {
  checkFinish, checkIntermediate, checkSnapshot, checkLease, checkLeaseSeconds, checkNewStudy, checkNewTrial, checkStudyName,
  checkStudyState, duplicateName, freshTrials, grant, checkLeaseToken, checkReporter, newStudyId, reapOutcome, seedFor, studyNotFound, tickClock,
  renamedConfig, trialNotFound,
} from './rules.js';
import { isFinished } from '../../shared/attempts.js';

export type { PgOptions } from './pg_connect.js';
export type { SchemaInfo } from './pg_migrations.js';

const S = SCHEMA;
const PRUNABLE = "t.role IN ('search', 'enqueued')";
/** The server's now + n seconds, n a float8 parameter. */
const inSeconds = (param: string) => `statement_timestamp() + make_interval(secs => ${param}::float8)`;
/** Lost races and aborted transactions that are safe to run again from the start: serialization failure, deadlock. */
const RETRYABLE = new Set(['40001', '40P01']);
const UNIQUE_VIOLATION = '23505';
/** lock_timeout ran out. */
const LOCK_NOT_AVAILABLE = '55P03';
/** An updated trial's values as one column of our own JSON (`$1` is the trial id), so a finish is one round trip. */
const VALUE_LIST = `(SELECT json_agg(json_build_object('trial_id', v.trial_id, 'step', v.step, 'value', v.value, 'metrics', v.metrics::text) ORDER BY v.step)::text
                       FROM ${S}.trial_values v WHERE v.trial_id = $1) AS value_list`;

/**
 * What a statement that commits on its own did, read once the session that ran it has ended: its answer's rows as
 * they now stand, 'unwritten', or undefined when the rows cannot say.
 */
type ReadBack = () => Promise<pg.QueryResult | 'unwritten' | undefined>;

/** The columns of `newTrialRows`' VALUES, in order. */
const NEW_TRIAL_COLUMNS = 'number, state, role, params, schedule, seed, value, metrics, trial_key, started, finished, owner, token, seconds, charged';

/**
 * New trials as typed VALUES rows numbered from `first`, their parameters appended to `values`; `seeds[i]` is the
 * i-th trial's seed, or null where the statement derives it. The one mapping from a NewTrial to a trials row.
 */
function newTrialRows(trials: readonly NewTrial[], first: number, seeds: readonly (number | null)[], values: unknown[]): string {
  const p = (v: unknown) => `$${values.push(v)}`;
  return trials.map((t, i) => {
    const finished = isFinished(t.state);
    const running = t.state === 'RUNNING';
    return `(${p(first + i)}::bigint, ${p(t.state)}::text, ${p(t.role)}::text, ${p(JSON.stringify(t.params))}::json, ${p(JSON.stringify(t.schedule))}::json, ` +
      `${p(seeds[i])}::bigint, ${p(finished ? (t.value ?? null) : null)}::float8, ${p(t.metrics == null ? null : JSON.stringify(t.metrics))}::json, ` +
      `${p(t.key ?? null)}::text, ${p(t.state !== 'WAITING')}::boolean, ${p(finished)}::boolean, ${p(running ? t.lease!.owner : null)}::text, ` +
      `${p(running ? 1 : 0)}::int, ${p(running ? t.lease!.seconds : null)}::float8, ${p(countsTowardBudget(t.role))}::boolean)`;
  }).join(',\n');
}

/** The insert of `newTrialRows` (as CTE `v`, study id `$1`), the seed given as an SQL expression; FROM and the rest follow. */
function insertTrialsFrom(seed: string): string {
  return `INSERT INTO ${S}.trials (study_id, number, state, role, params, schedule, seed, value, metrics, trial_key, created_at, started_at,
                                   finished_at, lease_owner, lease_token, lease_expires, charged)
          SELECT $1, v.number, v.state, v.role, v.params, v.schedule, ${seed}, v.value, v.metrics, v.trial_key, statement_timestamp(),
                 CASE WHEN v.started THEN statement_timestamp() END, CASE WHEN v.finished THEN statement_timestamp() END,
                 v.owner, v.token, ${inSeconds('v.seconds')}, v.charged`;
}

/**
 * Trials per statement when a whole study is read (readPages): each page is a round trip, and its rows are parsed as
 * they arrive, holding the event loop. Serving a 100,000-trial study on 2 cores, /api/health waited up to 0.5 s (the
 * first ask) and 1.0 s (a view) with the study read in one statement; 40-220 ms with pages of 200, 1,000 or 2,000
 * trials alike. 1,000 keeps the round trips few where the database is across a network.
 */
export const PG_PAGE_TRIALS = 5 * SLICE_ITEMS;

/** A row of `changedSince`: the study's revision, and a trial (all null when none changed). */
type ChangedRow = TrialRow & { study_revision: number; id: number | null };

/**
 * The study's revision and its trials changed after revision `since` (or RUNNING: a heartbeat moves a lease without
 * a revision), as one statement: one snapshot. No row when the study does not exist. `id` and `since` are SQL.
 */
function changedSince(id: string, since: string): string {
  return `SELECT s.revision AS study_revision, t.* FROM ${S}.studies s
            LEFT JOIN ${S}.trials t ON t.study_id = s.id AND (t.rev > ${since} OR t.state = 'RUNNING')
          WHERE s.id = ${id}`;
}

/** A trial back in the queue starts over (Storage.releaseTrial). */
async function forgetAttempt(c: PoolClient, trialId: number): Promise<void> {
  await c.query(`DELETE FROM ${S}.trial_values WHERE trial_id = $1`, [trialId]);
}

/** Upserts one study attr (setStudyAttr, setStudyState's attrs); undefined would vanish from JSON, so null is stored. */
async function putStudyAttr(c: PoolClient, id: string, key: string, value: unknown): Promise<void> {
  await c.query(
    `INSERT INTO ${S}.study_attrs (study_id, key, value) VALUES ($1, $2, $3) ON CONFLICT (study_id, key) DO UPDATE SET value = excluded.value`,
    [id, key, JSON.stringify(value ?? null)],
  );
}

const statementNames = new Map<string, string>();

/** A prepared statement's name, one per distinct text (a few dozen: the texts are ours, varying only by batch size). */
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `renorm_tune_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    statementNames.set(text, name);
  }
  return name;
}

/** PostgreSQL cannot store U+0000 in text: an identifier carrying one is bad input, named as such. */
function checkText(value: string, field: string): void {
  if (hasNul(value)) throw new ConfigError(field, 'must not contain the NUL character (\\u0000)');
}

/** A lookup by a string no row can hold (PostgreSQL would refuse the parameter itself) finds nothing. */
function hasNul(value: unknown): boolean {
  return typeof value === 'string' && value.includes('\u0000');
}

/** A failure reason is recorded whatever it holds: a NUL becomes U+FFFD rather than losing the failure. */
function storableText(value: string | null | undefined): string | null {
  return value == null ? null : value.replace(/\u0000/g, '\uFFFD');
}

/** Trials per statement when a study is imported (each statement's parameters are arrays of this length). */
const IMPORT_ROWS = 1000;

export class PgStorage implements Storage {
  readonly kind = 'postgres';
  /** The URL with its password redacted: the name this store goes by in messages. */
  readonly where: string;
  /** Migration versions this connect applied (empty when the schema was current). */
  readonly applied: readonly number[];
  private readonly pool: pg.Pool;
  private readonly feed: ChangeFeed;
  private readonly warn: (message: string) => void;
  private closed = false;
  private readonly json: StoredJson = (text, what, fallback) => readStoredJson(text, { where: `${this.where}: ${what}`, warn: this.warn, fallback }) as typeof fallback;

  /** Connections that hold study locks (`lockStudy`), apart from the pool so a lock holder never starves its own queries. */
  private readonly lockPool: pg.Pool;
  private readonly lists = new TrialLists();
  /** Lock holders this process gave up waiting for, per study. */
  private readonly waitedOut = new WaitedOut();
  /** The lock pool's lock_timeout: how long `lockStudy` waits for another holder. */
  private readonly lockWaitMs: number;

  private constructor(where: string, pool: pg.Pool, lockPool: pg.Pool, lockWaitMs: number, feed: ChangeFeed, warn: (message: string) => void, applied: number[]) {
    this.where = where;
    this.lockWaitMs = lockWaitMs;
    this.pool = pool;
    this.lockPool = lockPool;
    this.feed = feed;
    this.warn = warn;
    this.applied = applied;
  }

  /**
   * Connects, checks the schema version and migrates (unless `migrate: false`); an unreachable server, a missing
   * database or a refused login is a ConfigError naming the URL (password redacted) and the fix, within the
   * connect timeout, never a hang. A schema newer than this build is a StorageVersionError.
   */
  static async connect(url: string, opts: PgOptions = {}): Promise<PgStorage> {
    const where = redactUrl(url);
    const cfg = resolveConfig(url, opts, opts.field);
    const warn = opts.warn ?? ((m: string) => process.stderr.write(`renorm-tune: ${m}\n`));
    if (cfg.ignored.length > 0) warn(`${where}: ${cfg.ignored.map((n) => `?${n}`).join(', ')} ${cfg.ignored.length === 1 ? 'is' : 'are'} not read by renorm-tune or its PostgreSQL driver, and ignored`);
    // A client of its own for the check and the migrations: its connect timeout is the short one users wait for.
    const client = new pg.Client(cfg.client);
    client.on('error', () => undefined);
    let applied: number[];
    try {
      await client.connect();
      applied = await migrate(client, where, { migrate: opts.migrate !== false, mustExist: opts.mustExist === true });
    } catch (err) {
      throw connectError(err, url, cfg.connectTimeoutMs, opts.field);
    } finally {
      await client.end().catch(() => undefined);
    }
    // Run on each new connection before it is handed out (any user may set these; were one refused, the defaults stay).
    const keepalive = async (c: pg.ClientBase) => {
      await c.query(SESSION_KEEPALIVE_SQL).catch(() => undefined);
      await noteSession(c);
    };
    const pool = new pg.Pool({
      ...cfg.client,
      onConnect: keepalive,
      max: cfg.poolMax,
      // Later connects (after a server restart) and waits for a free connection fail rather than hang.
      connectionTimeoutMillis: Math.max(cfg.connectTimeoutMs, ACQUIRE_TIMEOUT_MS),
      idleTimeoutMillis: 10_000,
      // Idle pooled connections never keep a finished CLI alive.
      allowExitOnIdle: true,
    });
    // Without a listener, an idle connection dropped by the server would crash the process.
    pool.on('error', (err) => warn(`${where}: an idle database connection failed (${scrub(err.message, url)}); the pool replaces it`));
    let storage!: PgStorage;
    const feed = new ChangeFeed({
      client: { ...cfg.client, application_name: 'renorm-tune listen' },
      channel: CHANGE_CHANNEL,
      where,
      warn,
      resync: async () => (await storage.pool.query(`SELECT id FROM ${S}.studies ORDER BY seq`)).rows.map((r: { id: string }) => r.id),
    });
    // A lock connection's statements are the study lock, the listing and the unlock: only the lock ever waits.
    const lockSession = `SET lock_timeout = ${cfg.lockWaitMs}; ${SESSION_KEEPALIVE_SQL}`;
    const lockPool = new pg.Pool({
      ...cfg.client,
      application_name: 'renorm-tune lock',
      max: 4,
      connectionTimeoutMillis: Math.max(cfg.connectTimeoutMs, ACQUIRE_TIMEOUT_MS),
      idleTimeoutMillis: 10_000,
      allowExitOnIdle: true,
      onConnect: async (c: pg.ClientBase) => void await c.query(lockSession).catch(() => undefined),
    });
    lockPool.on('error', (err) => warn(`${where}: an idle lock connection failed (${scrub(err.message, url)}); the pool replaces it`));
    storage = new PgStorage(where, pool, lockPool, cfg.lockWaitMs, feed, warn, applied);
    return storage;
  }

  /**
   * The schema version of the database, the newest this build knows, and the renorm-tune version that applied the
   * newest migration. How a worker checks before it takes work: connect with `migrate: false` (a missing, older or
   * newer schema is then refused at connect, with the reason and the fix), then compare its own package version
   * with the coordinator's (carried by the job, since a coordinator upgraded without a schema change migrates
   * nothing); `packageVersion` here names who last migrated, for the message.
   */
  async schemaInfo(): Promise<SchemaInfo> {
    const c = await this.pool.connect();
    try {
      return await readSchemaInfo(c);
    } finally {
      c.release();
    }
  }

  async createStudy(study: { name: string; direction: Direction; config: Record<string, unknown> }): Promise<StudyRecord> {
    checkNewStudy(study);
    checkText(study.name, 'name');
    const config = JSON.stringify(study.config);
    for (;;) {
      const id = newStudyId();
      try {
        const row = (await this.query(
          `INSERT INTO ${S}.studies (id, name, direction, state, config, created_at) VALUES ($1, $2, $3, 'CREATED', $4, statement_timestamp()) RETURNING *`,
          [id, study.name, study.direction, config],
          true,
          async () => {
            // Lost after it went out: the study is there under its new id, or it is not.
            const now = await this.pool.query(`SELECT * FROM ${S}.studies WHERE id = $1`, [id]);
            return now.rows.length === 0 ? 'unwritten' : now;
          },
        )).rows[0] as StudyRow;
        return toStudy(row, [], this.json);
      } catch (err) {
        const e = sqlState(err);
        // The unique name is the check: two processes creating one name at once both pass any earlier read.
        if (e.code === UNIQUE_VIOLATION && e.constraint === 'studies_name_unique') throw duplicateName(study.name);
        if (e.code === UNIQUE_VIOLATION && e.constraint === 'studies_pkey') continue;
        throw err;
      }
    }
  }

  async importStudy(snapshot: StudySnapshot, attrsFor?: (idOf: ReadonlyMap<number, number>) => Record<string, unknown>): Promise<StudyRecord> {
    checkSnapshot(snapshot);
    const { study, trials } = snapshot;
    checkText(study.name, 'name');
    trials.forEach((t, i) => {
      if (t.key !== null) checkText(t.key, `trials[${i}].key`);
    });
    const json = (v: unknown) => (v == null ? null : JSON.stringify(v));
    try {
      return await this.transaction('BEGIN', async (c) => {
        const id = newStudyId();
        await c.query(
          `INSERT INTO ${S}.studies (id, name, direction, state, config, created_at, search_seconds) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          [id, study.name, study.direction, study.state, JSON.stringify(study.config), study.createdAt, study.searchSeconds],
        );
        const idOf = new Map<number, number>();
        // In statements of IMPORT_ROWS trials (and their curves) as arrays, not one round trip per row.
        for (let at = 0; at < trials.length; at += IMPORT_ROWS) {
          const part = trials.slice(at, at + IMPORT_ROWS);
          const col = <T>(f: (t: SnapshotTrial) => T) => part.map(f);
          const ids = (await c.query(
            `INSERT INTO ${S}.trials (study_id, number, state, role, params, schedule, seed, value, failure_reason, metrics, trial_key, created_at,
                                      started_at, finished_at, prune_requested, retries, charged)
             SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[], $5::json[], $6::json[], $7::bigint[], $8::float8[], $9::text[], $10::json[],
                                      $11::text[], $12::timestamptz[], $13::timestamptz[], $14::timestamptz[], $15::bool[], $16::int[], $17::bool[])
             RETURNING id, number`,
            [id, col((t) => t.number), col((t) => t.state), col((t) => t.role), col((t) => JSON.stringify(t.params)), col((t) => JSON.stringify(t.schedule)),
              col((t) => t.seed), col((t) => t.value), col((t) => storableText(t.failureReason)), col((t) => json(t.metrics)), col((t) => t.key),
              col((t) => t.createdAt), col((t) => t.startedAt), col((t) => t.finishedAt), col((t) => t.pruneRequested), col((t) => t.retries),
              col((t) => countsTowardBudget(t.role))],
          )).rows as { id: string | number; number: number }[];
          for (const r of ids) idOf.set(r.number, Number(r.id));
          const points = part.flatMap((t) => t.intermediate.map((v) => [idOf.get(t.number)!, v.step, v.value, json(v.metrics)] as const));
          if (points.length === 0) continue;
          await c.query(
            `INSERT INTO ${S}.trial_values (trial_id, step, value, metrics) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::float8[], $4::json[])`,
            [points.map((p) => p[0]), points.map((p) => p[1]), points.map((p) => p[2]), points.map((p) => p[3])],
          );
        }
        for (const [key, value] of Object.entries(attrsFor ? attrsFor(idOf) : study.attrs)) {
          await c.query(`INSERT INTO ${S}.study_attrs (study_id, key, value) VALUES ($1, $2, $3)`, [id, key, JSON.stringify(value ?? null)]);
        }
        return id;
      }).then((id) => this.getStudy(id).then((s) => s!));
    } catch (err) {
      const e = sqlState(err);
      if (e.code === UNIQUE_VIOLATION && e.constraint === 'studies_name_unique') throw duplicateName(study.name);
      throw err;
    }
  }

  async trialKeys(studyId: string): Promise<Map<number, string>> {
    if (hasNul(studyId)) return new Map();
    const rows = (await this.query(`SELECT id, trial_key FROM ${S}.trials WHERE study_id = $1 AND trial_key IS NOT NULL`, [studyId])).rows as { id: string | number; trial_key: string }[];
    return new Map(rows.map((r) => [Number(r.id), r.trial_key]));
  }

  async getStudy(id: string): Promise<StudyRecord | undefined> {
    if (hasNul(id)) return undefined;
    return this.oneStudy('s.id = $1', id);
  }

  async findStudyByName(name: string): Promise<StudyRecord | undefined> {
    if (hasNul(name)) return undefined;
    return this.oneStudy('s.name = $1', name);
  }

  /**
   * One statement, so one round trip and one snapshot without an explicit transaction: the service reads a study
   * several times per ask, and a BEGIN/COMMIT pair around two queries cost four round trips.
   */
  private async oneStudy(where: string, arg: string): Promise<StudyRecord | undefined> {
    const row = (await this.query(
      `SELECT s.*, (SELECT json_agg(json_build_array(a.key, a.value::text) ORDER BY a.key)::text FROM ${S}.study_attrs a WHERE a.study_id = s.id) AS attr_list
       FROM ${S}.studies s WHERE ${where}`, [arg])).rows[0] as (StudyRow & { attr_list: string | null }) | undefined;
    if (!row) return undefined;
    // Our own aggregate of [key, stored text] pairs: each stored value still goes through the repairing reader.
    const pairs = row.attr_list === null ? [] : (JSON.parse(row.attr_list) as [string, string][]);
    return toStudy(row, pairs.map(([key, value]) => ({ study_id: row.id, key, value })), this.json);
  }

  async listStudies(): Promise<StudyRecord[]> {
    return this.read(async (c) => {
      const rows = (await c.query(`SELECT * FROM ${S}.studies ORDER BY seq`)).rows as StudyRow[];
      const attrs = await this.attrRows(c, rows.map((r) => r.id));
      return rows.map((r) => toStudy(r, attrs.filter((a) => a.study_id === r.id), this.json));
    });
  }

  async trialTallies(studyId?: string): Promise<Map<string, TrialTally>> {
    return this.read(async (c) => {
      if (studyId !== undefined) {
        // A parameterised query is one statement: two queries, in the read's one snapshot.
        const groups = await c.query(tallyGroupsSql(`${S}.`, '$1'), [studyId]);
        const picks = await c.query(tallyPicksSql(`${S}.`, '$1'), [studyId]);
        return talliesFromRows(groups.rows as TallyGroupRow[], picks.rows as TallyPickRow[]);
      }
      // Both in one round trip (a parameterless multi-statement query answers with one result per statement).
      const [groups, picks] = (await c.query(`${tallyGroupsSql(`${S}.`)}; ${tallyPicksSql(`${S}.`)}`)) as unknown as [pg.QueryResult, pg.QueryResult];
      return talliesFromRows(groups.rows as TallyGroupRow[], picks.rows as TallyPickRow[]);
    });
  }

  async setStudyState(id: string, state: StudyState, attrs: Readonly<Record<string, unknown>> = {}): Promise<void> {
    checkStudyState(state);
    for (const key of Object.keys(attrs)) checkText(key, 'key');
    await this.write(id, async (c) => {
      await c.query(`UPDATE ${S}.studies SET state = $2 WHERE id = $1 AND state <> $2`, [id, state]);
      for (const [key, value] of Object.entries(attrs)) await putStudyAttr(c, id, key, value);
    });
  }

  async setStudyAttr(id: string, key: string, value: unknown): Promise<void> {
    checkText(key, 'key');
    await this.write(id, (c) => putStudyAttr(c, id, key, value));
  }

  async renameStudy(id: string, name: string): Promise<void> {
    checkStudyName(name);
    checkText(name, 'name');
    try {
      await this.write(id, async (c, s) => {
        await c.query(`UPDATE ${S}.studies SET name = $2 WHERE id = $1 AND name <> $2`, [id, name]);
        const config = renamedConfig(this.json<Record<string, unknown>>(s.config, `study ${id} config`, {}), name);
        if (config) await c.query(`UPDATE ${S}.studies SET config = $2 WHERE id = $1`, [id, JSON.stringify(config)]);
      });
    } catch (err) {
      const e = sqlState(err);
      if (e.code === UNIQUE_VIOLATION && e.constraint === 'studies_name_unique') throw duplicateName(name);
      throw err;
    }
  }

  async updateStudyConfig(id: string, edit: (config: Record<string, unknown>) => Record<string, unknown>): Promise<void> {
    await this.write(id, async (c, s) => {
      const config = edit(this.json<Record<string, unknown>>(s.config, `study ${id} config`, {}));
      checkNewStudy({ name: s.name, direction: s.direction, config });
      await c.query(`UPDATE ${S}.studies SET config = $2 WHERE id = $1`, [id, JSON.stringify(config)]);
    });
  }

  async deleteStudy(id: string): Promise<void> {
    // ON DELETE CASCADE removes attrs, trials and their values in the same transaction.
    await this.write(id, async (c) => {
      await c.query(`DELETE FROM ${S}.studies WHERE id = $1`, [id]);
    });
    this.lists.forget(id);
  }

  async tickSearchClock(id: string, gapSeconds: number): Promise<number> {
    return this.write(id, async (c, s) => {
      // A statement after the lock: its timestamp is later than the tick of whoever held the lock before us.
      const nowMs = (await c.query('SELECT floor(extract(epoch FROM statement_timestamp()) * 1000)::float8 AS ms')).rows[0].ms as number;
      const next = tickClock({ seconds: s.search_seconds, lastTickMs: s.clock_tick_ms }, nowMs, gapSeconds);
      await c.query(`UPDATE ${S}.studies SET search_seconds = $2, clock_tick_ms = $3 WHERE id = $1`, [id, next.seconds, next.lastTickMs]);
      return next.seconds;
    });
  }

  async createTrials(studyId: string, trials: NewTrial[], guard: CreateGuard = {}): Promise<TrialRecord[]> {
    trials.forEach(checkNewTrial);
    trials.forEach((t, i) => {
      if (t.key !== undefined) checkText(t.key, `trials[${i}].key`);
      if (t.lease) checkText(t.lease.owner, `trials[${i}].lease.owner`);
    });
    if (guard.snapshot !== undefined && trials.length > 0 && trials.every((t) => t.key === undefined) && !hasNul(studyId)) {
      const done = await this.createAtSnapshot(studyId, trials, guard.snapshot, guard.budget);
      if (done) return done;
    }
    return this.write(studyId, async (c, study) => {
      // One statement for the next number and the budget's count: each role's trials and highest number.
      const byRole = (await c.query(`SELECT role, COUNT(*) AS n, MAX(number) AS top FROM ${S}.trials WHERE study_id = $1 GROUP BY role`, [studyId])).rows as { role: string; n: number; top: number }[];
      const next = byRole.reduce((m, r) => Math.max(m, r.top + 1), 0);
      if (guard.snapshot !== undefined && guard.snapshot !== next) throw new StaleSnapshotError(studyId, guard.snapshot, next);
      const keys = trials.flatMap((t) => (t.key === undefined ? [] : [t.key]));
      const taken = new Set<string>(keys.length === 0 ? [] : (await c.query(
        `SELECT trial_key FROM ${S}.trials WHERE study_id = $1 AND trial_key = ANY($2::text[])`, [studyId, keys],
      )).rows.map((r: { trial_key: string }) => r.trial_key));
      const fresh = freshTrials(trials, (key) => taken.has(key));
      let counted = 0;
      if (guard.budget !== undefined) for (const r of byRole) if (countsTowardBudget(r.role)) counted += r.n;
      const config = this.json<Record<string, unknown>>(study.config, `study ${studyId} config`, {});
      const batch = fresh.slice(0, grant(study.name, fresh, counted, guard.budget));
      if (batch.length === 0) return [];
      const values: unknown[] = [studyId];
      const rows = newTrialRows(batch, next, batch.map((t, i) => seedFor(t, config, next + i)), values);
      const inserted = (await c.query(`WITH v (${NEW_TRIAL_COLUMNS}) AS (VALUES ${rows}) ${insertTrialsFrom('v.seed')} FROM v RETURNING *`, values)).rows as TrialRow[];
      return inserted.sort((a, b) => a.number - b.number).map((r) => toTrial(r, [], this.json));
    });
  }

  /**
   * An ask's insert in one statement (one round trip, one commit) where the snapshot guard allows it: the trials
   * are numbered from `snapshot`, so they go in only if the study still ends at `snapshot - 1` (checked in the
   * statement, and by the unique number against anyone who inserts meanwhile), and only if all of them fit the
   * budget (counted over `charged`). The study's row is locked first, as in every write. null: it was not that
   * simple (stale, partly over budget, no such study, a study seed JavaScript's arithmetic would round): the
   * transaction path then decides, with its exact error.
   */
  private async createAtSnapshot(studyId: string, trials: NewTrial[], snapshot: number, budget: number | undefined): Promise<TrialRecord[] | null> {
    const values: unknown[] = [studyId, snapshot, budget ?? null, trials.filter((t) => countsTowardBudget(t.role)).length];
    const rows = newTrialRows(trials, snapshot, trials.map((t) => t.seed ?? null), values);
    // The study seed as seedFor reads it (a safe integer, else 0); beyond 2^31 JavaScript's float arithmetic in
    // trialSeed may round where numeric would not, so such a study takes the transaction path.
    const studySeed = `CASE WHEN json_typeof(config->'seed') = 'number' THEN (config->>'seed')::numeric END`;
    try {
      const inserted = (await this.query(
        `WITH s AS (SELECT ${studySeed} AS seed FROM ${S}.studies WHERE id = $1 FOR UPDATE),
              k AS (SELECT CASE WHEN seed = trunc(seed) AND abs(seed) <= 9007199254740991 THEN seed ELSE 0 END AS seed FROM s),
              v (${NEW_TRIAL_COLUMNS}) AS (VALUES ${rows})
         ${insertTrialsFrom('COALESCE(v.seed, mod(k.seed * 1000003 + v.number * 7919 + 104729, 2147483647)::bigint)')}
         FROM v, k
         WHERE abs(k.seed) <= 2147483647
           AND (SELECT COALESCE(max(number) + 1, 0) FROM ${S}.trials WHERE study_id = $1) = $2
           AND ($3::bigint IS NULL OR (SELECT count(*) FROM ${S}.trials WHERE study_id = $1 AND charged) + $4 <= $3::bigint)
         RETURNING *`,
        values,
        true,
      )).rows as TrialRow[];
      return inserted.length === 0 ? null : inserted.sort((a, b) => a.number - b.number).map((r) => toTrial(r, [], this.json));
    } catch (err) {
      // Someone inserted since the snapshot (their number is ours), or lost a deadlock: the transaction path says which.
      const code = sqlState(err).code ?? '';
      if (code === UNIQUE_VIOLATION || RETRYABLE.has(code)) return null;
      throw err;
    }
  }

  async getTrial(studyId: string, trialId: number): Promise<TrialRecord | undefined> {
    if (!Number.isSafeInteger(trialId) || hasNul(studyId)) return undefined;
    return this.read(async (c) => (await this.trialsWithValues(c, studyId, [trialId]))[0]);
  }

  async trialIdByNumber(studyId: string, number: number): Promise<number | undefined> {
    if (!Number.isSafeInteger(number) || number < -(2 ** 31) || number >= 2 ** 31 || hasNul(studyId)) return undefined;
    const row = (await this.query(`SELECT id FROM ${S}.trials WHERE study_id = $1 AND number = $2`, [studyId, number])).rows[0] as { id: string | number } | undefined;
    return row === undefined ? undefined : Number(row.id);
  }

  async listTrials(studyId: string, opts: { states?: readonly TrialState[]; withIntermediate?: boolean } = {}): Promise<TrialRecord[]> {
    const states = opts.states;
    if ((states && states.length === 0) || hasNul(studyId)) return [];
    if (opts.withIntermediate === false) {
      const all = await this.listChanged(studyId);
      return states ? all.filter((t) => states.includes(t.state)) : all;
    }
    // One read-only snapshot: every page, trials and their values, agrees even while another process writes.
    return (await this.read((c) => this.readPages(c, studyId, { ...(states ? { states } : {}), withValues: true }))).map((t) => t.record);
  }

  /**
   * The study's trials without values: on the first listing in this process every trial, a page at a time; later,
   * in one statement (one round trip, one snapshot), only the rows changed since this process last listed the study
   * and the RUNNING ones (a heartbeat moves a lease without a revision). The rest comes from the copy in `lists`.
   */
  private async listChanged(studyId: string): Promise<TrialRecord[]> {
    const since = this.lists.since(studyId);
    if (since < 0) return this.read((c) => this.listWhole(c, studyId));
    return this.mergeListed(studyId, (await this.query(changedSince('$1', '$2'), [studyId, since])).rows as ChangedRow[]);
  }

  /** The whole study into `lists`: its revision and every trial, read on `c` inside a snapshot (REPEATABLE READ). */
  private async listWhole(c: PoolClient, studyId: string): Promise<TrialRecord[]> {
    const study = (await c.query(`SELECT revision FROM ${S}.studies WHERE id = $1`, [studyId])).rows[0] as { revision: number } | undefined;
    if (!study) {
      this.lists.forget(studyId);
      return [];
    }
    return this.lists.merge(studyId, study.revision, await this.readPages(c, studyId, { withValues: false, frozen: true }));
  }

  /**
   * The study's trials in number order (in `states` when given), PG_PAGE_TRIALS per statement (fewer when they carry
   * many values: collectPages) on `c`, which must be inside a snapshot so the pages agree, with the event loop let in
   * between. In one statement, a 100,000-trial study held the server for up to a second while node-postgres parsed
   * the rows as fast as they came.
   * `frozen`: records for the shared copy, frozen here as they are converted.
   */
  private async readPages(c: PoolClient, studyId: string, o: { states?: readonly TrialState[]; withValues: boolean; frozen?: boolean }): Promise<ListedTrial[]> {
    const inStates = o.states ? ' AND t.state = ANY($4::text[])' : '';
    const select = `SELECT * FROM ${S}.trials t WHERE t.study_id = $1 AND t.number > $2${inStates} ORDER BY t.number LIMIT $3`;
    const selectValues = `SELECT * FROM ${S}.trial_values WHERE trial_id = ANY($1::bigint[]) ORDER BY trial_id, step`;
    return collectPages(-1, PG_PAGE_TRIALS, o.withValues ? 1 : PG_PAGE_TRIALS, async (after, n): Promise<Page<ListedTrial>> => {
      const values = o.states ? [studyId, after, n, o.states] : [studyId, after, n];
      const rows = (await c.query({ name: statementName(select), text: select, values })).rows as TrialRow[];
      const points = o.withValues && rows.length > 0
        ? (await c.query({ name: statementName(selectValues), text: selectValues, values: [rows.map((r) => r.id)] })).rows as ValueRow[]
        : [];
      const byTrial = valuesByTrial(points);
      const items = await mapInSlices(rows, (r) => {
        const record = toTrial(r, byTrial.get(r.id) ?? [], this.json);
        return { record: o.frozen ? freeze(record) : record, rev: r.rev };
      });
      return { items, last: rows[rows.length - 1]?.number, rows: points.length };
    });
  }

  /** Rows of `changedSince` into the study's listing. */
  private async mergeListed(studyId: string, rows: ChangedRow[]): Promise<TrialRecord[]> {
    if (rows.length === 0) {
      this.lists.forget(studyId);
      return [];
    }
    // Many rows change at once now and then (a big batch asked, a reap): converted SLICE_ITEMS at a time, frozen as they come.
    const changed = await mapInSlices(rows.filter((r) => r.id !== null), (r) => ({ record: freeze(toTrial(r, [], this.json)), rev: r.rev }));
    return this.lists.merge(studyId, rows[0]!.study_revision, changed);
  }

  async claimTrial(studyId: string, trialId: number, lease: LeaseRequest): Promise<Lease | null> {
    checkLease(lease, 'lease');
    checkText(lease.owner, 'lease.owner');
    return this.write(studyId, async (c) => {
      const row = await this.lockTrial(c, studyId, trialId);
      if (row.state !== 'WAITING') return null;
      const token = row.lease_token + 1;
      const done = (await c.query(
        `UPDATE ${S}.trials SET state = 'RUNNING', started_at = statement_timestamp(), lease_owner = $2, lease_token = $3, lease_expires = ${inSeconds('$4')}
         WHERE id = $1 RETURNING lease_expires`,
        [trialId, lease.owner, token, lease.seconds],
      )).rows[0] as { lease_expires: string };
      return { owner: lease.owner, token, expiresAt: done.lease_expires };
    });
  }

  async renewLease(studyId: string, trialId: number, token: number, seconds: number): Promise<Lease> {
    checkLeaseSeconds(seconds, 'seconds');
    // The trial's row alone: a heartbeat changes no column a viewer sees (no trigger touches the study row), so
    // it need not queue behind the study's other writers. A reap waiting on the same row re-checks the new expiry.
    if (hasNul(studyId)) throw trialNotFound(studyId, trialId);
    return this.transaction('BEGIN', async (c) => {
      const row = await this.lockTrial(c, studyId, trialId);
      this.checkToken(row, token);
      const expires = await this.extend(c, trialId, seconds);
      return { owner: row.lease_owner!, token, expiresAt: expires };
    });
  }

  async releaseTrial(studyId: string, trialId: number, token: number): Promise<boolean> {
    return this.write(studyId, async (c) => {
      const row = await this.lockTrial(c, studyId, trialId);
      if (row.state !== 'RUNNING' || row.lease_token !== token) return false;
      await c.query(`UPDATE ${S}.trials SET state = 'WAITING', started_at = NULL, lease_owner = NULL, lease_expires = NULL, prune_requested = false WHERE id = $1`, [trialId]);
      await forgetAttempt(c, trialId);
      return true;
    });
  }

  async reapExpiredLeases(studyId: string, opts: { maxRetries: number; deadOwners?: string[] }): Promise<TrialRecord[]> {
    // An owner with a NUL cannot hold a lease (claims refuse it), and PostgreSQL would refuse the parameter.
    const dead = (opts.deadOwners ?? []).filter((o) => !hasNul(o));
    // The usual answer is "nothing expired": say so after one plain read, without taking the study's lock (a lock
    // is a write, and a write waits for the disk).
    if (!hasNul(studyId)) {
      const probe = (await this.query(
        `SELECT EXISTS (SELECT 1 FROM ${S}.studies WHERE id = $1) AS study,
                EXISTS (SELECT 1 FROM ${S}.trials WHERE study_id = $1 AND state = 'RUNNING'
                          AND (lease_expires IS NULL OR lease_expires <= statement_timestamp() OR lease_owner = ANY($2::text[]))) AS expired`,
        [studyId, dead])).rows[0] as { study: boolean; expired: boolean };
      if (probe.study && !probe.expired) return [];
    }
    return this.write(studyId, async (c) => {
      const rows = (await c.query(
        `SELECT * FROM ${S}.trials WHERE study_id = $1 AND state = 'RUNNING'
           AND (lease_expires IS NULL OR lease_expires <= statement_timestamp() OR lease_owner = ANY($2::text[]))
         ORDER BY number FOR UPDATE`,
        [studyId, dead],
      )).rows as TrialRow[];
      for (const r of rows) {
        const outcome = reapOutcome({ retries: r.retries, owner: r.lease_owner }, opts.maxRetries, dead.includes(r.lease_owner ?? ''));
        if (outcome.state === 'WAITING') {
          await c.query(`UPDATE ${S}.trials SET state = 'WAITING', started_at = NULL, retries = retries + 1, lease_owner = NULL, lease_expires = NULL, prune_requested = false WHERE id = $1`, [r.id]);
          await forgetAttempt(c, r.id);
        } else {
          await c.query(
            `UPDATE ${S}.trials SET state = 'FAIL', failure_reason = $2, finished_at = statement_timestamp(), lease_owner = NULL, lease_expires = NULL WHERE id = $1`,
            [r.id, storableText(outcome.reason)],
          );
        }
      }
      return rows.length === 0 ? [] : this.trialsWithValues(c, studyId, rows.map((r) => r.id));
    });
  }

  async addIntermediate(studyId: string, trialId: number, value: IntermediateValue, opts: { token?: number; renewSeconds?: number } = {}): Promise<{ kept: number } | null> {
    checkIntermediate(value);
    if (opts.renewSeconds !== undefined) checkLeaseSeconds(opts.renewSeconds, 'renewSeconds');
    const metrics = value.metrics == null ? null : JSON.stringify(value.metrics);
    return this.write(studyId, async (c) => {
      const row = await this.lockTrial(c, studyId, trialId);
      checkReporter(row.number, row.state, row.lease_token, opts.token, row.failure_reason);
      if (opts.renewSeconds !== undefined && row.state === 'RUNNING') await this.extend(c, trialId, opts.renewSeconds);
      const added = await c.query(
        `INSERT INTO ${S}.trial_values (trial_id, step, value, metrics) VALUES ($1, $2, $3, $4) ON CONFLICT (trial_id, step) DO NOTHING`,
        [trialId, value.step, value.value, metrics],
      );
      if ((added.rowCount ?? 0) > 0) return null;
      const kept = await c.query<{ value: number }>(`SELECT value FROM ${S}.trial_values WHERE trial_id = $1 AND step = $2`, [trialId, value.step]);
      return { kept: Number(kept.rows[0]!.value) };
    });
  }

  async requestPrune(studyId: string, trialId: number): Promise<void> {
    await this.write(studyId, async (c) => {
      await this.lockTrial(c, studyId, trialId);
      await c.query(`UPDATE ${S}.trials SET prune_requested = true WHERE id = $1 AND NOT prune_requested`, [trialId]);
    });
  }

  async peerValues(studyId: string, q: PeerQuery): Promise<number[]> {
    if (hasNul(studyId)) return [];
    const params: unknown[] = [studyId, Number.isSafeInteger(q.exceptTrialId) ? q.exceptTrialId : -1, q.step];
    const states = q.states ? ` AND t.state = ANY($${params.push(q.states)}::text[])` : '';
    // Per trial one primary-key probe of trial_values: cheap however many reports the study holds.
    const rows = (await this.query(q.mode === 'at'
      ? `SELECT v.value FROM ${S}.trials t JOIN ${S}.trial_values v ON v.trial_id = t.id
         WHERE t.study_id = $1 AND t.id <> $2 AND ${PRUNABLE}${states} AND v.step = $3`
      : `SELECT (SELECT v.value FROM ${S}.trial_values v WHERE v.trial_id = t.id AND v.step >= $3 ORDER BY v.step LIMIT 1) AS value
         FROM ${S}.trials t WHERE t.study_id = $1 AND t.id <> $2 AND ${PRUNABLE}${states}`,
    params)).rows as { value: number | null }[];
    return rows.filter((r) => r.value !== null).map((r) => r.value!);
  }

  async finishTrial(studyId: string, trialId: number, result: FinishResult, opts: { token?: number; honourPrune?: boolean } = {}): Promise<TrialRecord> {
    checkFinish(result);
    const metrics = result.metrics == null ? null : JSON.stringify(result.metrics);
    if (!hasNul(studyId) && Number.isSafeInteger(trialId) && (opts.token === undefined || Number.isSafeInteger(opts.token))) {
      const done = await this.finishAtOnce(studyId, trialId, result, metrics, opts);
      if (done) return done;
    }
    return this.write(studyId, async (c) => {
      // Under the study lock, a second finisher reads the first one's terminal state.
      const row = await this.lockTrial(c, studyId, trialId);
      checkReporter(row.number, row.state, row.lease_token, opts.token, row.failure_reason);
      const state = result.state === 'COMPLETE' && opts.honourPrune && row.prune_requested ? 'PRUNED' : result.state;
      // The trial's values come back with the update (one round trip), as our own JSON of the stored rows.
      const done = (await c.query(
        `UPDATE ${S}.trials SET state = $2, value = $3, failure_reason = $4, metrics = $5, finished_at = statement_timestamp(),
                started_at = COALESCE(started_at, statement_timestamp()), lease_owner = NULL, lease_expires = NULL
         WHERE id = $1
         RETURNING *, ${VALUE_LIST}`,
        [trialId, state, result.value ?? null, storableText(result.failureReason), metrics],
      )).rows[0] as TrialRow & { value_list: string | null };
      return toTrial(done, await this.valueList(c, done), this.json);
    });
  }

  /**
   * The usual finish in one statement (one round trip, one commit): the study's row locked first (the EXISTS is
   * evaluated once, before the trial is read), then the trial updated only if it is RUNNING and, with a token,
   * still held under it. null when it was not: the transaction path then finds out why, with its exact error.
   */
  private async finishAtOnce(studyId: string, trialId: number, result: FinishResult, metrics: string | null, opts: { token?: number; honourPrune?: boolean }): Promise<TrialRecord | null> {
    try {
      const done = (await this.query(
        `UPDATE ${S}.trials t SET state = CASE WHEN $6::boolean AND t.prune_requested THEN 'PRUNED' ELSE $2 END, value = $3, failure_reason = $4,
                metrics = $5, finished_at = statement_timestamp(), started_at = COALESCE(t.started_at, statement_timestamp()), lease_owner = NULL, lease_expires = NULL
         WHERE t.id = $1 AND t.study_id = $7 AND t.state = 'RUNNING'
           AND ($8::bigint IS NULL OR t.lease_token = $8::bigint)
           AND EXISTS (SELECT 1 FROM ${S}.studies WHERE id = $7 FOR UPDATE)
         RETURNING t.*, ${VALUE_LIST}`,
        [trialId, result.state, result.value ?? null, storableText(result.failureReason), metrics,
          result.state === 'COMPLETE' && opts.honourPrune === true, studyId, opts.token ?? null],
        true,
        () => this.readBackFinish(studyId, trialId, result, opts),
      )).rows[0] as (TrialRow & { value_list: string | null }) | undefined;
      return done ? toTrial(done, await this.valueList(this.pool, done), this.json) : null;
    } catch (err) {
      if (RETRYABLE.has(sqlState(err).code ?? '')) return null;
      throw err;
    }
  }

  /**
   * What a finish whose answer was lost did (see `query`): the trial still running under the same lease is
   * 'unwritten'; finished as this finish says (state, value, reason), it is taken as this finish, as the clients do
   * with a tell they sent again; anything else cannot be told apart from another finisher's work.
   */
  private async readBackFinish(studyId: string, trialId: number, result: FinishResult, opts: { token?: number; honourPrune?: boolean }): Promise<pg.QueryResult | 'unwritten' | undefined> {
    const now = await this.pool.query(`SELECT t.*, ${VALUE_LIST} FROM ${S}.trials t WHERE t.id = $1 AND t.study_id = $2`, [trialId, studyId]);
    const row = now.rows[0] as TrialRow | undefined;
    if (!row) return undefined;
    if (row.state === 'RUNNING') return opts.token === undefined || Number(row.lease_token) === opts.token ? 'unwritten' : undefined;
    const state = result.state === 'COMPLETE' && opts.honourPrune && row.prune_requested ? 'PRUNED' : result.state;
    const same = row.state === state && row.value === (result.value ?? null) && row.failure_reason === storableText(result.failureReason);
    return same ? now : undefined;
  }

  /** A finished trial's values from the `value_list` aggregate its update returned. */
  private async valueList(c: pg.Pool | PoolClient, done: TrialRow & { value_list: string | null }): Promise<ValueRow[]> {
    try {
      return done.value_list === null ? [] : (JSON.parse(done.value_list) as ValueRow[]);
    } catch {
      // Only a value written by hand (NaN, Infinity) makes the aggregate unreadable: read the rows one by one then.
      return (await c.query(`SELECT * FROM ${S}.trial_values WHERE trial_id = $1 ORDER BY step`, [done.id])).rows as ValueRow[];
    }
  }

  /** The trigger-maintained `revision` (migration 2): one primary-key read. */
  async changeStamp(studyId: string): Promise<number> {
    if (hasNul(studyId)) throw studyNotFound(studyId);
    const row = (await this.query(`SELECT revision FROM ${S}.studies WHERE id = $1`, [studyId])).rows[0] as { revision: number } | undefined;
    if (!row) throw studyNotFound(studyId);
    return row.revision;
  }

  async changeStamps(): Promise<Map<string, number>> {
    const rows = (await this.query(`SELECT id, revision FROM ${S}.studies`)).rows as { id: string; revision: number }[];
    return new Map(rows.map((r) => [r.id, r.revision]));
  }

  /** LISTEN/NOTIFY: `listener` hears the id of every study any process changes (or creates, or deletes). */
  onChange(listener: (studyId: string) => void): () => void {
    return this.feed.subscribe(listener);
  }

  /** Resolves once change notifications flow: a change committed after this is announced. */
  async changesListening(): Promise<void> {
    await this.feed.listening();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.feed.close();
    await this.lockPool.end();
    await this.pool.end();
  }

  /**
   * Runs `fn` while holding the study's advisory lock (a session lock on a connection of the lock pool): the
   * service asks under it, so servers in front of one database compute suggestions one at a time instead of
   * racing and recomputing. The lock goes with the connection if this process dies. A holder that keeps it past
   * the lock wait (`lockWaitMs`: a server suspended mid-ask, or a very large ask) is named in a warning, and `fn`
   * runs without the lock: the lock only saves work, since CreateGuard's snapshot keeps concurrent asks apart.
   */
  async lockStudy<T>(studyId: string, fn: (listed: TrialRecord[]) => Promise<T>): Promise<T> {
    const { c, release } = await this.checkout(this.lockPool);
    const key = `renorm-tune:study:${studyId}`;
    let taken: { listed: TrialRecord[]; held: boolean };
    try {
      taken = await this.takeLock(c, studyId, key);
    } catch (err) {
      release(true);
      throw this.unavailable(err);
    }
    try {
      return await fn(taken.listed);
    } finally {
      // The caller need not wait for the unlock's round trip: the connection returns to the pool once it is done
      // (dropped if it failed, which frees the lock), and a locker meanwhile takes another and waits on the server.
      if (!taken.held) release(false);
      else c.query({ name: 'renorm_tune_unlock', text: 'SELECT pg_advisory_unlock(hashtextextended($1, 0))', values: [key] })
        .then(() => release(false), () => release(true));
    }
  }

  /**
   * The study lock and the listing, or the listing alone once the lock wait ran out. A holder waited out before
   * that still sits idle holding the lock is not waited for again (a warning a minute says it still does); once it
   * has let go, or done anything else, asks wait for the lock as usual.
   */
  private async takeLock(c: PoolClient, studyId: string, key: string): Promise<{ listed: TrialRecord[]; held: boolean }> {
    const known = this.waitedOut.identity(studyId);
    if (known !== undefined) {
      if (await tryLock(c, key)) {
        this.waitedOut.forget(studyId);
        return { listed: await this.lockAndList(c, studyId, null), held: true };
      }
      const holder = await lockHolder(c, key);
      if (holder?.identity === known) {
        if (this.waitedOut.warnAgain(studyId, Date.now())) {
          this.warn(`${this.where}: study ${studyId}: its ask lock is still held by ${describeHolder(holder)}; asking without the lock`);
        }
        return { listed: await this.lockAndList(c, studyId, null), held: false };
      }
      this.waitedOut.forget(studyId);
    }
    try {
      return { listed: await this.lockAndList(c, studyId, key), held: true };
    } catch (err) {
      if (sqlState(err).code !== LOCK_NOT_AVAILABLE) throw err;
    }
    const holder = await lockHolder(c, key).catch(() => null);
    this.waitedOut.remember(studyId, holder, Date.now());
    const waited = `another process has held its ask lock for over ${this.lockWaitMs / 1000} s`;
    const later = this.waitedOut.identity(studyId) === undefined ? '' : '; later asks go ahead without waiting while that session stays idle';
    this.warn(`${this.where}: study ${studyId}: ${waited}${holder ? ` (${describeHolder(holder)})` : ''}; asking without the lock (a concurrent ask may be computed twice, never handed out twice)${later}`);
    return { listed: await this.lockAndList(c, studyId, null), held: false };
  }

  /**
   * The lock (unless `key` is null), then the listing: the listing's snapshot is taken once the lock is granted, so
   * it sees what the previous holder committed. The changes since the last listing come in the same simple query, a
   * statement of its own (simple queries take no parameters: the strings go in as escaped literals); a study this
   * process has not listed yet is read whole, a page at a time, in a snapshot begun after the lock. A session lock
   * outlives a failed listing: the caller drops the connection then. A wait past the connection's lock_timeout
   * throws LOCK_NOT_AVAILABLE with nothing listed.
   */
  private async lockAndList(c: PoolClient, studyId: string, key: string | null): Promise<TrialRecord[]> {
    const since = this.lists.since(studyId);
    const lock = key === null ? null : `SELECT pg_advisory_lock(hashtextextended(${c.escapeLiteral(key)}, 0))`;
    if (since < 0) {
      if (lock) await c.query(lock);
      await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const listed = await this.listWhole(c, studyId);
      await c.query('COMMIT');
      return listed;
    }
    const changed = changedSince(c.escapeLiteral(studyId), String(since));
    if (!lock) return this.mergeListed(studyId, (await c.query(changed)).rows as ChangedRow[]);
    const results = (await c.query(`${lock}; ${changed}`)) as unknown as pg.QueryResult[];
    return this.mergeListed(studyId, results[1]!.rows as ChangedRow[]);
  }

  /**
   * One write transaction on study `studyId`: its row locked first (see the top of this file), NotFoundError if
   * it does not exist. A deadlock or serialization failure (which PostgreSQL rolled back whole) runs it again.
   */
  private async write<T>(studyId: string, fn: (c: PoolClient, study: StudyRow) => Promise<T>): Promise<T> {
    if (hasNul(studyId)) throw studyNotFound(studyId);
    return this.transaction('BEGIN', async (c) => {
      const study = (await c.query(`SELECT * FROM ${S}.studies WHERE id = $1 FOR UPDATE`, [studyId])).rows[0] as StudyRow | undefined;
      if (!study) throw studyNotFound(studyId);
      return fn(c, study);
    });
  }

  /** One read-only snapshot, for reads that take more than one statement. */
  private async read<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    return this.transaction('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', fn);
  }

  /**
   * `fn` in one transaction begun with `begin`. A write transaction whose connection was lost after its COMMIT went
   * out is looked up by its id on another connection: committed, it returns as if nothing happened; rolled back, it
   * is STORAGE_UNAVAILABLE (nothing was written); only when the database cannot tell is it STORAGE_OUTCOME_UNKNOWN.
   */
  private async transaction<T>(begin: string, fn: (c: PoolClient) => Promise<T>): Promise<T> {
    const writes = !begin.includes('READ ONLY');
    for (let attempt = 1; ; attempt++) {
      const { c, release } = await this.checkout(this.pool);
      let xid: string | undefined;
      let out: { value: T } | undefined;
      let failure: unknown;
      try {
        if (writes) xid = await beginWithId(c, begin);
        else await c.query(begin);
        out = { value: await fn(c) };
        await c.query('COMMIT');
        release(false);
        return out.value;
      } catch (err) {
        failure = err;
        // A connection that cannot even roll back is dropped, not handed to the next caller.
        let broken = false;
        await c.query('ROLLBACK').catch(() => (broken = true));
        release(broken);
      }
      if (attempt < 3 && RETRYABLE.has(sqlState(failure).code ?? '')) continue;
      // Lost before the COMMIT went out, the session's transaction dies with it: nothing was written. Lost after,
      // it may have committed: the database knows which (asked once the lost connection went back to the pool).
      const error = this.unavailable(failure, out !== undefined && writes);
      if (out !== undefined && xid !== undefined && error instanceof StorageOutcomeUnknownError) {
        const outcome = await commitOutcome((text, values) => this.pool.query(text, values), xid);
        if (outcome === 'committed') return out.value;
        if (outcome === 'aborted') throw this.unavailable(failure);
      }
      throw error;
    }
  }

  /**
   * One statement outside a transaction, with a lost connection turned into StorageUnavailableError; for a statement
   * that `writes` (and so commits on its own), lost once the statement went out, into StorageOutcomeUnknownError,
   * unless `readBack` can say what it did once the session that ran it has ended: its rows as they now stand (the
   * answer the statement would have given), or 'unwritten' (STORAGE_UNAVAILABLE: nothing was written).
   */
  private async query(text: string, values?: unknown[], writes = false, readBack?: ReadBack): Promise<pg.QueryResult> {
    // Named, so each pooled connection parses and plans the statement once (planning cost more than running).
    const statement = { name: statementName(text), text, ...(values ? { values } : {}) };
    if (!writes) {
      try {
        return await this.pool.query(statement);
      } catch (err) {
        throw this.unavailable(err);
      }
    }
    // The connection first, apart: a failure to get one means the statement never went out.
    const { c, release } = await this.checkout(this.pool);
    // The server session running it, to see it end.
    const pid = sessionOf(c);
    let failure: unknown;
    try {
      const done = await c.query(statement);
      release(false);
      return done;
    } catch (err) {
      failure = err;
      release(true); // as pool.query does: a connection whose statement failed is not reused
    }
    const error = this.unavailable(failure, true);
    if (!(error instanceof StorageOutcomeUnknownError) || !readBack || pid === undefined) throw error;
    const ask = (q: string, v: unknown[]) => this.pool.query(q, v);
    const now = (await sessionEnded(ask, pid)) ? await readBack().catch(() => undefined) : undefined;
    if (now === 'unwritten') throw this.unavailable(failure);
    if (now === undefined) throw error;
    return now;
  }

  /**
   * A connection of `pool` (none to be had is a 503), and its release: `broken` drops it rather than pool it. While
   * it is checked out, a cut connection also emits 'error' on the client; the query fails with it already, so the
   * event itself must not become an uncaught exception that takes the process down.
   */
  private async checkout(pool: pg.Pool): Promise<{ c: PoolClient; release: (broken: boolean) => void }> {
    const c = await pool.connect().catch((err: unknown) => {
      throw this.unavailable(err);
    });
    const ignore = () => undefined;
    c.on('error', ignore);
    return {
      c,
      release: (broken) => {
        c.off('error', ignore);
        c.release(broken);
      },
    };
  }

  /** A lost connection, a server going down, a read-only server or a full disk becomes a 503 naming the database; every other error passes through. */
  private unavailable(err: unknown, sent = false): unknown {
    return storageError(err, this.where, sent);
  }

  private async lockTrial(c: PoolClient, studyId: string, trialId: number): Promise<TrialRow> {
    if (!Number.isSafeInteger(trialId)) throw trialNotFound(studyId, trialId);
    const row = (await c.query(`SELECT * FROM ${S}.trials WHERE id = $1 AND study_id = $2 FOR UPDATE`, [trialId, studyId])).rows[0] as TrialRow | undefined;
    if (!row) throw trialNotFound(studyId, trialId);
    return row;
  }

  private async trialsWithValues(c: PoolClient, studyId: string, ids: number[]): Promise<TrialRecord[]> {
    const rows = (await c.query(`SELECT * FROM ${S}.trials WHERE study_id = $1 AND id = ANY($2::bigint[]) ORDER BY number`, [studyId, ids])).rows as TrialRow[];
    if (rows.length === 0) return [];
    const values = (await c.query(`SELECT * FROM ${S}.trial_values WHERE trial_id = ANY($1::bigint[]) ORDER BY trial_id, step`, [rows.map((r) => r.id)])).rows as ValueRow[];
    const byTrial = valuesByTrial(values);
    return rows.map((r) => toTrial(r, byTrial.get(r.id) ?? [], this.json));
  }

  private async attrRows(c: PoolClient, ids: string[]): Promise<{ study_id: string; key: string; value: string }[]> {
    if (ids.length === 0) return [];
    return (await c.query(`SELECT study_id, key, value FROM ${S}.study_attrs WHERE study_id = ANY($1::text[]) ORDER BY study_id, key`, [ids])).rows;
  }

  private checkToken(row: TrialRow, token: number): void {
    checkLeaseToken(row.number, row.state, row.lease_token, token);
  }

  private async extend(c: PoolClient, trialId: number, seconds: number): Promise<string> {
    const row = (await c.query(`UPDATE ${S}.trials SET lease_expires = ${inSeconds('$2')} WHERE id = $1 RETURNING lease_expires`, [trialId, seconds])).rows[0];
    return (row as { lease_expires: string }).lease_expires;
  }

}
