// The SQLite schema as an ordered list of migrations, applied one transaction each and tracked in PRAGMA user_version.
import type Database from 'better-sqlite3';
import { DataError } from '../../errors.js';
import { StorageVersionError } from '../errors.js';

export { StorageVersionError } from '../errors.js';

export interface Migration {
  version: number;
  /** Why this migration exists, for the person reading the history. */
  note: string;
  sql: string;
}

/**
 * Append only: never edit a released migration, add a new one. Versions are 1, 2, 3, ... in order.
 * JSON columns hold text; value columns are REAL and never NULL for COMPLETE trials (checked in code, not SQL,
 * so the error can name the field).
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    note: 'studies, their attributes, trials and intermediate values',
    sql: `
      CREATE TABLE studies (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        direction TEXT NOT NULL CHECK (direction IN ('minimize', 'maximize')),
        state TEXT NOT NULL CHECK (state IN ('CREATED', 'RUNNING', 'STOPPED', 'COMPLETE')),
        config TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE TABLE study_attrs (
        study_id TEXT NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (study_id, key)
      );
      CREATE TABLE trials (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        study_id TEXT NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
        number INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('WAITING', 'RUNNING', 'COMPLETE', 'PRUNED', 'FAIL')),
        params TEXT NOT NULL,
        schedule TEXT NOT NULL,
        label TEXT,
        value REAL,
        failure_reason TEXT,
        seed INTEGER NOT NULL,
        metrics TEXT,
        created_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT,
        UNIQUE (study_id, number)
      );
      CREATE INDEX trials_by_study_state ON trials (study_id, state);
      CREATE TABLE trial_values (
        trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
        step INTEGER NOT NULL,
        value REAL NOT NULL,
        metrics TEXT,
        PRIMARY KEY (trial_id, step)
      );
    `,
  },
  {
    version: 2,
    note: 'a per-study change counter, moved by triggers on every write, so another process can notice changes cheaply',
    // Triggers rather than code: every writer (this version's, a future one's, a hand-run sqlite3 fix) moves it.
    // An INSERT OR IGNORE that ignores fires no trigger, which is right: nothing changed.
    sql: `
      ALTER TABLE studies ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
      CREATE TRIGGER studies_revision_state AFTER UPDATE OF state ON studies
        BEGIN UPDATE studies SET revision = revision + 1 WHERE id = NEW.id; END;
      CREATE TRIGGER study_attrs_revision_insert AFTER INSERT ON study_attrs
        BEGIN UPDATE studies SET revision = revision + 1 WHERE id = NEW.study_id; END;
      CREATE TRIGGER study_attrs_revision_update AFTER UPDATE ON study_attrs
        BEGIN UPDATE studies SET revision = revision + 1 WHERE id = NEW.study_id; END;
      CREATE TRIGGER trials_revision_insert AFTER INSERT ON trials
        BEGIN UPDATE studies SET revision = revision + 1 WHERE id = NEW.study_id; END;
      CREATE TRIGGER trials_revision_update AFTER UPDATE ON trials
        BEGIN UPDATE studies SET revision = revision + 1 WHERE id = NEW.study_id; END;
      CREATE TRIGGER trial_values_revision_insert AFTER INSERT ON trial_values
        BEGIN UPDATE studies SET revision = revision + 1 WHERE id = (SELECT study_id FROM trials WHERE id = NEW.trial_id); END;
    `,
  },
  {
    version: 3,
    note: 'trial roles instead of labels, idempotency keys, leases with fencing tokens, pruned-on-request, the search clock',
    // Labels become roles (one field, one helper, src/shared/roles.ts). Trials RUNNING under version 2 had no lease:
    // they get an already-expired one, so the next run reaps them back to the queue, as version 2 requeued them.
    // Lease renewals do not move the change counter (a heartbeat is not news to a dashboard): the trigger now
    // watches only the columns a viewer shows.
    sql: `
      ALTER TABLE trials ADD COLUMN role TEXT NOT NULL DEFAULT 'search';
      UPDATE trials SET role = CASE
        WHEN label = 'batchnorm' THEN 'baseline:batchnorm'
        WHEN label = 'paper' THEN 'baseline:paper'
        WHEN label LIKE 'final:%' THEN label
        ELSE 'search' END;
      ALTER TABLE trials DROP COLUMN label;
      ALTER TABLE trials ADD COLUMN trial_key TEXT;
      UPDATE trials SET trial_key = role WHERE role LIKE 'baseline:%';
      CREATE UNIQUE INDEX trials_by_key ON trials (study_id, trial_key) WHERE trial_key IS NOT NULL;
      ALTER TABLE trials ADD COLUMN prune_requested INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE trials ADD COLUMN retries INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE trials ADD COLUMN lease_owner TEXT;
      ALTER TABLE trials ADD COLUMN lease_token INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE trials ADD COLUMN lease_expires_ms INTEGER;
      UPDATE trials SET lease_owner = 'before-leases', lease_token = 1, lease_expires_ms = 0 WHERE state = 'RUNNING';
      ALTER TABLE studies ADD COLUMN search_seconds REAL NOT NULL DEFAULT 0;
      ALTER TABLE studies ADD COLUMN clock_tick_ms INTEGER;
      UPDATE studies SET search_seconds = COALESCE(
        (SELECT CAST(value AS REAL) FROM study_attrs a WHERE a.study_id = studies.id AND a.key = 'searchSeconds'), 0);
      DELETE FROM study_attrs WHERE key = 'searchSeconds';
      DROP TRIGGER trials_revision_update;
      CREATE TRIGGER trials_revision_update AFTER UPDATE OF state, value, failure_reason, metrics, prune_requested, retries ON trials
        BEGIN UPDATE studies SET revision = revision + 1 WHERE id = NEW.study_id; END;
      CREATE TRIGGER studies_revision_name AFTER UPDATE OF name, config ON studies
        BEGIN UPDATE studies SET revision = revision + 1 WHERE id = NEW.id; END;
    `,
  },
  {
    version: 4,
    note: 'trials.rev: the study revision of each trial change, so a listing reads only what changed since the last one',
    // As PostgreSQL's migration 4. Writes to one file are serialised, so revisions commit in order and a reader that
    // saw revision R has seen every trial change up to R. Every column a listed record shows stamps, but a lease
    // renewal alone (lease_expires_ms) does not, as it moved no revision before: readers re-read RUNNING trials.
    // Setting rev fires neither trigger (rev is in neither column list). Rows from before read as rev 0.
    sql: `
      ALTER TABLE trials ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX trials_by_rev ON trials (study_id, rev);
      DROP TRIGGER trials_revision_insert;
      DROP TRIGGER trials_revision_update;
      CREATE TRIGGER trials_stamp_insert AFTER INSERT ON trials BEGIN
        UPDATE studies SET revision = revision + 1 WHERE id = NEW.study_id;
        UPDATE trials SET rev = (SELECT revision FROM studies WHERE id = NEW.study_id) WHERE id = NEW.id;
      END;
      CREATE TRIGGER trials_stamp_update AFTER UPDATE OF study_id, number, state, role, params, schedule, value, failure_reason, seed,
          metrics, trial_key, created_at, started_at, finished_at, prune_requested, retries, lease_owner, lease_token ON trials BEGIN
        UPDATE studies SET revision = revision + 1 WHERE id = NEW.study_id;
        UPDATE trials SET rev = (SELECT revision FROM studies WHERE id = NEW.study_id) WHERE id = NEW.id;
      END;
    `,
  },
  {
    version: 5,
    note: 'trials_by_role: an ask counts the budget spent (BUDGET_COUNT_SQL) from the index instead of every trial row',
    // 41 ms per ask at 100,000 trials, on the event loop (better-sqlite3 is synchronous); 4.5 ms from the index.
    sql: `
      CREATE INDEX trials_by_role ON trials (study_id, role);
    `,
  },
];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/**
 * Refuses another application's SQLite file before anything writes to it (our tables, WAL mode): a mistyped --db,
 * even on a read command, must not change someone else's database. A new (empty) file passes, and so does ours at any
 * version; one newer than ours is left to `migrate`, which says so.
 */
export function checkOwnSchema(db: Database.Database, file: string, migrations: readonly Migration[] = MIGRATIONS): void {
  // One read transaction, one snapshot: another opener may commit our first migration (tables and version together) between two bare reads.
  const { version, names } = db.transaction(() => ({
    version: db.pragma('user_version', { simple: true }) as number,
    names: (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[])
      .map((r) => r.name),
  }))();
  const known = migrations.length === 0 ? 0 : migrations[migrations.length - 1]!.version;
  if (version > known) return;
  if (names.length === 0 || (version > 0 && names.includes('studies') && names.includes('trials'))) return;
  const shown = names.length > 5 ? `${names.slice(0, 5).join(', ')}, ...` : names.join(', ');
  throw new DataError(file, `is another application's SQLite database (tables ${shown}; no renorm-tune schema), left as it was (fix: point --db at a renorm-tune database, or at a new file)`);
}

/**
 * Brings `db` up to `migrations`' last version. Every pending step and the user_version bump share one transaction,
 * so a crash mid-migration leaves the version it had, and no reader ever sees a version in between: a worker waiting
 * for its coordinator to create a new file sees no schema, then the whole (src/distributed/compat.ts). Returns the
 * versions applied.
 */
export function migrate(db: Database.Database, file: string, migrations: readonly Migration[] = MIGRATIONS): number[] {
  const known = migrations.length === 0 ? 0 : migrations[migrations.length - 1]!.version;
  const version = (): number => db.pragma('user_version', { simple: true }) as number;
  if (version() > known) throw new StorageVersionError(file, version(), known, 'file');
  return db.transaction(() => {
    const applied: number[] = [];
    for (const m of migrations) {
      // Read under the write lock: another process may have migrated since we looked.
      if (version() >= m.version) continue;
      db.exec(m.sql);
      // PRAGMA cannot take a bound parameter; the version is an integer from our own list.
      db.pragma(`user_version = ${Math.trunc(m.version)}`);
      applied.push(m.version);
    }
    return applied;
  }).immediate();
}
