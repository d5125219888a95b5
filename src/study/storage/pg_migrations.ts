// The PostgreSQL schema as an ordered list of migrations, applied one transaction each under an advisory lock and recorded, with the package version that applied them, in renorm_tune.schema_migrations.
import { PACKAGE_VERSION } from '../../version.js';
import type { ClientBase } from 'pg';
import { DataError, SchemaMissingError } from '../../errors.js';
import { CLI } from '../../shared/names.js';
import { StorageVersionError } from '../errors.js';

export interface PgMigration {
  version: number;
  /** Why this migration exists, for the person reading the history. */
  note: string;
  sql: string;
}

/** Every table lives in this schema, so renorm-tune never collides with another application's `studies` or `trials` in a shared database. */
export const SCHEMA = 'renorm_tune';
/** The LISTEN/NOTIFY channel the triggers of migration 2 notify on; the payload is the study id. */
export const CHANGE_CHANNEL = 'renorm_tune_change';
/** Serialises migrators across processes and machines ('renorm' in ASCII); held only for one migration transaction. */
const MIGRATION_LOCK = 0x72656e6f726d;


/**
 * Append only: never edit a released migration, add a new one. Versions are 1, 2, 3, ... in order. They start
 * from what SQLite reached in its version 3 (roles, keys, leases, the search clock), not from its history.
 * JSON columns are `json`, not `jsonb`: validated on the way in, but kept verbatim (key order, as the config was
 * written) and able to hold every string JSON.stringify produces (jsonb refuses \u0000 and lone surrogates).
 * Times are the server's (timestamptz), so every process judges leases by one clock.
 */
export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    note: 'studies, their attributes, trials (roles, idempotency keys, leases with fencing tokens, prune requests) and intermediate values',
    sql: `
      CREATE TABLE renorm_tune.studies (
        id TEXT PRIMARY KEY,
        seq BIGSERIAL NOT NULL,
        name TEXT NOT NULL CONSTRAINT studies_name_unique UNIQUE,
        direction TEXT NOT NULL CHECK (direction IN ('minimize', 'maximize')),
        state TEXT NOT NULL CHECK (state IN ('CREATED', 'RUNNING', 'STOPPED', 'COMPLETE')),
        config JSON NOT NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT statement_timestamp(),
        search_seconds DOUBLE PRECISION NOT NULL DEFAULT 0,
        clock_tick_ms DOUBLE PRECISION,
        revision BIGINT NOT NULL DEFAULT 0
      );
      CREATE TABLE renorm_tune.study_attrs (
        study_id TEXT NOT NULL REFERENCES renorm_tune.studies(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value JSON NOT NULL,
        PRIMARY KEY (study_id, key)
      );
      CREATE TABLE renorm_tune.trials (
        id BIGSERIAL PRIMARY KEY,
        study_id TEXT NOT NULL REFERENCES renorm_tune.studies(id) ON DELETE CASCADE,
        number INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('WAITING', 'RUNNING', 'COMPLETE', 'PRUNED', 'FAIL')),
        role TEXT NOT NULL,
        params JSON NOT NULL,
        schedule JSON NOT NULL,
        value DOUBLE PRECISION,
        failure_reason TEXT,
        seed BIGINT NOT NULL,
        metrics JSON,
        trial_key TEXT,
        created_at TIMESTAMPTZ NOT NULL DEFAULT statement_timestamp(),
        started_at TIMESTAMPTZ,
        finished_at TIMESTAMPTZ,
        prune_requested BOOLEAN NOT NULL DEFAULT false,
        retries INTEGER NOT NULL DEFAULT 0,
        lease_owner TEXT,
        lease_token INTEGER NOT NULL DEFAULT 0,
        lease_expires TIMESTAMPTZ,
        CONSTRAINT trials_number_unique UNIQUE (study_id, number)
      );
      CREATE INDEX trials_by_study_state ON renorm_tune.trials (study_id, state);
      CREATE UNIQUE INDEX trials_by_key ON renorm_tune.trials (study_id, trial_key) WHERE trial_key IS NOT NULL;
      CREATE TABLE renorm_tune.trial_values (
        trial_id BIGINT NOT NULL REFERENCES renorm_tune.trials(id) ON DELETE CASCADE,
        step BIGINT NOT NULL,
        value DOUBLE PRECISION NOT NULL,
        metrics JSON,
        PRIMARY KEY (trial_id, step)
      );
    `,
  },
  {
    version: 2,
    note: 'the per-study change stamp and cross-process change notifications, both moved by triggers',
    // Triggers rather than code, as in SQLite: every writer (a future version's, a hand-run psql fix) moves the
    // stamp and notifies. NOTIFY is delivered at commit and collapsed per transaction, so a batch is one event.
    // The same columns as SQLite's triggers: a lease renewal (lease_expires) or a clock tick is not news.
    sql: `
      CREATE FUNCTION renorm_tune.touch_study(sid TEXT) RETURNS void LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE renorm_tune.studies SET revision = revision + 1 WHERE id = sid;
        PERFORM pg_notify('renorm_tune_change', sid);
      END $$;
      CREATE FUNCTION renorm_tune.on_study_update() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.revision := OLD.revision + 1;
        PERFORM pg_notify('renorm_tune_change', NEW.id);
        RETURN NEW;
      END $$;
      CREATE FUNCTION renorm_tune.on_study_insert_delete() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' THEN PERFORM pg_notify('renorm_tune_change', OLD.id); ELSE PERFORM pg_notify('renorm_tune_change', NEW.id); END IF;
        RETURN NULL;
      END $$;
      CREATE FUNCTION renorm_tune.on_trial_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM renorm_tune.touch_study(NEW.study_id);
        RETURN NULL;
      END $$;
      CREATE FUNCTION renorm_tune.on_value_insert() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM renorm_tune.touch_study((SELECT study_id FROM renorm_tune.trials WHERE id = NEW.trial_id));
        RETURN NULL;
      END $$;
      CREATE TRIGGER studies_revision BEFORE UPDATE OF state, name, config ON renorm_tune.studies
        FOR EACH ROW EXECUTE FUNCTION renorm_tune.on_study_update();
      CREATE TRIGGER studies_notify AFTER INSERT OR DELETE ON renorm_tune.studies
        FOR EACH ROW EXECUTE FUNCTION renorm_tune.on_study_insert_delete();
      CREATE TRIGGER study_attrs_revision AFTER INSERT OR UPDATE ON renorm_tune.study_attrs
        FOR EACH ROW EXECUTE FUNCTION renorm_tune.on_trial_change();
      CREATE TRIGGER trials_revision AFTER INSERT OR UPDATE OF state, value, failure_reason, metrics, prune_requested, retries ON renorm_tune.trials
        FOR EACH ROW EXECUTE FUNCTION renorm_tune.on_trial_change();
      CREATE TRIGGER trial_values_revision AFTER INSERT ON renorm_tune.trial_values
        FOR EACH ROW EXECUTE FUNCTION renorm_tune.on_value_insert();
    `,
  },
  {
    version: 3,
    note: 'trials.charged: whether a trial counts toward budget.trials, written at insert, so an ask checks the budget inside its insert statement',
    // Writers set it from countsTowardBudget (src/shared/roles.ts), the rule's one home; this backfill is that rule
    // as it stood when the column was added: final and race runs and warm starts are free, everything else counts.
    sql: `
      ALTER TABLE renorm_tune.trials ADD COLUMN charged BOOLEAN;
      UPDATE renorm_tune.trials SET charged = NOT (role LIKE 'final:%' OR role ~ '^race:[0-9]{1,9}$' OR role = 'warm-start');
      ALTER TABLE renorm_tune.trials ALTER COLUMN charged SET NOT NULL;
    `,
  },
  {
    version: 4,
    note: 'trials.rev: the study revision of each trial change, so a listing reads only what changed since the last one',
    // The stamp moves the study's revision in the same transaction, so it takes the study's row lock until commit:
    // revisions therefore commit in order, and a reader that saw revision R has seen every trial change up to R.
    // A lease renewal alone (lease_expires) stays unstamped, as it was no news before; readers re-read RUNNING trials.
    sql: `
      ALTER TABLE renorm_tune.trials ADD COLUMN rev BIGINT NOT NULL DEFAULT 0;
      CREATE INDEX trials_by_rev ON renorm_tune.trials (study_id, rev);
      CREATE FUNCTION renorm_tune.stamp_trial() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE renorm_tune.studies SET revision = revision + 1 WHERE id = NEW.study_id RETURNING revision INTO NEW.rev;
        PERFORM pg_notify('renorm_tune_change', NEW.study_id);
        RETURN NEW;
      END $$;
      DROP TRIGGER trials_revision ON renorm_tune.trials;
      CREATE TRIGGER trials_stamp BEFORE INSERT OR UPDATE OF study_id, number, state, role, params, schedule, value, failure_reason, seed, metrics,
          trial_key, created_at, started_at, finished_at, prune_requested, retries, lease_owner, lease_token, charged ON renorm_tune.trials
        FOR EACH ROW EXECUTE FUNCTION renorm_tune.stamp_trial();
    `,
  },
  {
    version: 5,
    note: 'trials_charged: an ask counts the budget spent from a partial index instead of scanning the trials',
    // The count runs inside the ask's insert, under the study's row lock, so every writer of the study waited on it:
    // 70 ms at 100,000 trials (a parallel sequential scan), 5-9 ms as an index-only scan.
    sql: `
      CREATE INDEX trials_charged ON renorm_tune.trials (study_id) WHERE charged;
    `,
  },
  {
    version: 6,
    note: 'a study revision moves once per transaction, not once per row changed, so a write of many rows stays linear',
    // Every trial or curve point written moved the study's row: one new row version each, all kept until commit, and
    // each update walks that chain to its end. A copy of 100,000 trials (500,000 rows) in one transaction had not
    // finished after 15 minutes. Now the first change of a study in a transaction moves its revision (taking the row
    // lock until commit, so revisions still commit in order) and notifies; later ones reuse that revision, kept in a
    // transaction-local setting. Every row a transaction writes commits at once, so one stamp serves them all.
    sql: `
      CREATE FUNCTION renorm_tune.bump_study(sid TEXT) RETURNS BIGINT LANGUAGE plpgsql AS $$
      DECLARE
        k TEXT := 'renorm_tune.rev_' || md5(sid);
        seen TEXT := current_setting(k, true);
        rev BIGINT;
      BEGIN
        IF seen IS NOT NULL AND seen <> '' THEN RETURN seen::BIGINT; END IF;
        UPDATE renorm_tune.studies SET revision = revision + 1 WHERE id = sid RETURNING revision INTO rev;
        PERFORM pg_notify('renorm_tune_change', sid);
        IF rev IS NOT NULL THEN PERFORM set_config(k, rev::TEXT, true); END IF;
        RETURN rev;
      END $$;
      CREATE OR REPLACE FUNCTION renorm_tune.touch_study(sid TEXT) RETURNS void LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM renorm_tune.bump_study(sid);
      END $$;
      CREATE OR REPLACE FUNCTION renorm_tune.stamp_trial() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.rev := renorm_tune.bump_study(NEW.study_id);
        RETURN NEW;
      END $$;
    `,
  },
];

export const PG_LATEST_VERSION = PG_MIGRATIONS[PG_MIGRATIONS.length - 1]!.version;

/** What a database says about its schema; a worker compares it with its own build before it takes work. */
export interface SchemaInfo {
  /** The newest migration applied (0: no renorm-tune schema). */
  version: number;
  /** The newest migration this build knows. */
  known: number;
  /** The renorm-tune version that applied `version`, and when (null without a schema). */
  packageVersion: string | null;
  migratedAt: string | null;
}

export async function readSchemaInfo(client: ClientBase, known = PG_LATEST_VERSION): Promise<SchemaInfo> {
  const exists = (await client.query(`SELECT to_regclass('${SCHEMA}.schema_migrations') IS NOT NULL AS ok`)).rows[0].ok as boolean;
  if (!exists) return { version: 0, known, packageVersion: null, migratedAt: null };
  const row = (await client.query(`SELECT version, package_version, applied_at FROM ${SCHEMA}.schema_migrations ORDER BY version DESC LIMIT 1`)).rows[0] as
    { version: number; package_version: string; applied_at: string } | undefined;
  return row
    ? { version: row.version, known, packageVersion: row.package_version, migratedAt: row.applied_at }
    : { version: 0, known, packageVersion: null, migratedAt: null };
}

export interface MigrateOptions {
  /** false: refuse instead of changing the schema (see PgOptions.migrate). */
  migrate: boolean;
  /** Refuse a database without the schema. */
  mustExist: boolean;
  packageVersion?: string;
}

/** CREATE SCHEMA IF NOT EXISTS finding the schema made by another session meanwhile (a unique violation, or 42P06). */
function lostSchemaRace(err: unknown): boolean {
  const e = (err ?? {}) as { code?: string; constraint?: string };
  return e.code === '42P06' || (e.code === '23505' && e.constraint === 'pg_namespace_nspname_index');
}

/**
 * Brings the database `client` is connected to up to the last of `migrations`; `where` (the redacted URL) names it
 * in errors. Every pending migration and its record share one transaction, taken under an advisory lock and
 * re-checked under it, so concurrent starters apply each migration exactly once, a failure leaves the version the
 * database had, and no session ever sees a version in between: a worker waiting for its coordinator to create the
 * schema sees none, then the whole (src/distributed/compat.ts). Returns the versions this call applied.
 */
export async function migrate(client: ClientBase, where: string, opts: MigrateOptions, migrations: readonly PgMigration[] = PG_MIGRATIONS): Promise<number[]> {
  const known = migrations.length === 0 ? 0 : migrations[migrations.length - 1]!.version;
  const info = await readSchemaInfo(client, known);
  if (info.version > known) throw new StorageVersionError(where, info.version, known, 'database');
  if (info.version === 0 && opts.mustExist) {
    throw new SchemaMissingError(where, 'holds no renorm-tune schema (fix: check --db, or run a study on it first to create it)');
  }
  if (info.version === known) return [];
  if (!opts.migrate) {
    const what = info.version === 0 ? 'holds no renorm-tune schema' : `has schema version ${info.version}, older than this renorm-tune's ${known}`;
    const Err = info.version === 0 ? SchemaMissingError : DataError;
    throw new Err(where, `${what}, and this process does not migrate (fix: start the coordinator, \`${CLI} run\` or \`serve\`, of this renorm-tune version once to migrate it, or run this worker from the renorm-tune version that wrote it)`);
  }
  const apply = async (): Promise<number[]> => {
    const applied: number[] = [];
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${SCHEMA}.schema_migrations (
        version INTEGER PRIMARY KEY, note TEXT NOT NULL, package_version TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT statement_timestamp())`);
      // Re-read under the lock: another process may have migrated since we looked, even past what we know.
      const now = (await readSchemaInfo(client, known)).version;
      if (now > known) throw new StorageVersionError(where, now, known, 'database');
      for (const m of migrations) {
        if (now >= m.version) continue;
        await client.query(m.sql);
        await client.query(`INSERT INTO ${SCHEMA}.schema_migrations (version, note, package_version) VALUES ($1, $2, $3)`,
          [m.version, m.note, opts.packageVersion ?? PACKAGE_VERSION]);
        applied.push(m.version);
      }
      await client.query('COMMIT');
      return applied;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  };
  // A session that has looked the schema up before (a pooler's, one that saw it dropped) may still see it missing
  // after waiting for the lock, and lose the race to create it: the next transaction sees it.
  return apply().catch((err: unknown) => (lostSchemaRace(err) ? apply() : Promise.reject(err)));
}
