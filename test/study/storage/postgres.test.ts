// PostgreSQL storage: the shared conformance suite against a real server, plus what only a server shows (concurrent migrators, version refusal, NOTIFY across connections, connect errors).
// Each run creates its own database (renorm_tune_test_<pid>_<random>) through $RENORM_TUNE_TEST_PG (default: the
// local server's `test` database) and drops it at the end; an unreachable server marks every test skipped.
import { describe, it, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import pg from 'pg';
import { ConfigError, ConflictError, DataError, NotFoundError } from '../../../src/errors.js';
import { StorageVersionError } from '../../../src/study/errors.js';
import { openStorage } from '../../../src/study/storage/index.js';
import { redactUrl, scrub } from '../../../src/study/storage/pg_connect.js';
import { PG_PAGE_TRIALS, PgStorage } from '../../../src/study/storage/postgres.js';
import { PG_LATEST_VERSION, PG_MIGRATIONS, SCHEMA, migrate, readSchemaInfo } from '../../../src/study/storage/pg_migrations.js';
import { PACKAGE_VERSION } from '../../../src/version.js';
import { newTrial, storageConformance } from './conformance.js';
import { PG_SERVER, createTestDatabase, pgUrl, withPgClient } from '../../fixtures/pg.js';

const SERVER = PG_SERVER;
const urlOf = pgUrl;
const withClient = withPgClient;
const db = await createTestDatabase('storage');
/** Why the suite cannot run here, or null once the run's own database exists. */
const unavailable: string | null = 'unavailable' in db ? db.unavailable : null;
const dbName = 'unavailable' in db ? 'none' : db.name;
const URL_ = urlOf(dbName);
after(async () => {
  if (!('unavailable' in db)) await db.drop();
});

/** The renorm-tune schema dropped: the next connect starts from an empty database. */
const resetSchema = () => withClient(URL_, (c) => c.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

if (unavailable) {
  // Skipped tests, not skipped suites: the run's summary counts them.
  describe('Storage conformance: PgStorage', () => {
    it('runs the conformance suite against a real server', { skip: unavailable }, () => {});
  });
  describe('PgStorage server behaviour', () => {
    it('migrates, refuses newer schemas, notifies across connections', { skip: unavailable }, () => {});
  });
} else {
  storageConformance('PgStorage', async () => {
    await resetSchema();
    const storage = await PgStorage.connect(URL_);
    // The clock is the server's: time passes by waiting.
    return { storage, advance: sleep, second: async () => PgStorage.connect(URL_), pageTrials: PG_PAGE_TRIALS };
  });

  describe('PgStorage server behaviour', () => {
    const open: PgStorage[] = [];
    const connect = async (url = URL_, opts: Parameters<typeof PgStorage.connect>[1] = {}) => {
      const s = await PgStorage.connect(url, opts);
      open.push(s);
      return s;
    };
    beforeEach(async () => {
      for (const s of open.splice(0)) await s.close();
      await resetSchema();
    });
    after(async () => {
      for (const s of open.splice(0)) await s.close();
    });

    it('applies each migration exactly once when two processes start at the same time', async () => {
      const [a, b] = await Promise.all([connect(), connect()]);
      const all = [...a.applied, ...b.applied].sort();
      assert.deepEqual(all, PG_MIGRATIONS.map((m) => m.version), `each migration by exactly one starter: ${a.applied} | ${b.applied}`);
      const rows = await withClient(URL_, async (c) => (await c.query(`SELECT version, package_version FROM ${SCHEMA}.schema_migrations ORDER BY version`)).rows);
      assert.deepEqual(rows, PG_MIGRATIONS.map((m) => ({ version: m.version, package_version: PACKAGE_VERSION })));
      assert.deepEqual((await connect()).applied, [], 'a current schema is left alone');
      // Migration 5: the ask's budget count reads a partial index of the charged trials.
      const charged = await withClient(URL_, async (c) => (await c.query(`SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname = 'trials_charged'`, [SCHEMA])).rows);
      assert.match(String(charged[0]?.indexdef), /ON renorm_tune\.trials USING btree \(study_id\) WHERE charged/);
    });

    it('migrates from two long-lived sessions at once (a pooler\'s) after the schema was dropped under them: each migration once, neither fails', async () => {
      // Such a session has looked the schema up before; waiting for the migration lock does not make it see the
      // other's new schema, so its CREATE SCHEMA IF NOT EXISTS used to fail with a unique violation.
      const sessions = [new pg.Client({ connectionString: URL_ }), new pg.Client({ connectionString: URL_ })];
      for (const c of sessions) await c.connect();
      try {
        for (let round = 0; round < 3; round++) {
          await resetSchema();
          for (const c of sessions) await c.query(`SELECT to_regclass('${SCHEMA}.schema_migrations')`);
          const applied = await Promise.all(sessions.map((c) => migrate(c, 'here', { migrate: true, mustExist: false })));
          assert.deepEqual(applied.flat().sort(), PG_MIGRATIONS.map((m) => m.version), `round ${round}: each migration by exactly one session: ${applied.join(' | ')}`);
        }
      } finally {
        for (const c of sessions) await c.end();
      }
    });

    it('rolls back a failing migration whole, leaving the previous version', async () => {
      const broken = [...PG_MIGRATIONS, { version: PG_LATEST_VERSION + 1, note: 'broken', sql: `CREATE TABLE ${SCHEMA}.extra (x INT); CREATE TABLE ${SCHEMA}.trials (dup INT);` }];
      await withClient(URL_, async (c) => {
        assert.deepEqual(await migrate(c, 'here', { migrate: true, mustExist: false }, PG_MIGRATIONS), PG_MIGRATIONS.map((m) => m.version));
        await assert.rejects(migrate(c, 'here', { migrate: true, mustExist: false }, broken), /already exists/);
        const v = (await c.query(`SELECT max(version) AS v FROM ${SCHEMA}.schema_migrations`)).rows[0].v;
        assert.equal(v, PG_LATEST_VERSION);
        assert.equal((await c.query(`SELECT to_regclass('${SCHEMA}.extra') AS t`)).rows[0].t, null, 'the failed migration left nothing');
      });
    });

    it('applies every pending migration in one transaction: a fresh database shows no schema or the whole, never a version in between', async () => {
      // A worker waiting for its coordinator to create the schema read a version in between as an old schema and left.
      await resetSchema();
      const broken = [...PG_MIGRATIONS, { version: PG_LATEST_VERSION + 1, note: 'broken', sql: `CREATE TABLE ${SCHEMA}.trials (dup INT);` }];
      await withClient(URL_, async (c) => {
        await assert.rejects(migrate(c, 'here', { migrate: true, mustExist: false }, broken), /already exists/);
        assert.equal((await readSchemaInfo(c)).version, 0, 'the failure of the last left no schema, not the versions before it');
        assert.equal((await c.query(`SELECT to_regclass('${SCHEMA}.trials') AS t`)).rows[0].t, null);
        // And while a fresh schema is being created, another session sees none of it until the whole commits.
        const slow = [...PG_MIGRATIONS.slice(0, -1), { ...PG_MIGRATIONS[PG_MIGRATIONS.length - 1]!, sql: `SELECT pg_sleep(1.5); ${PG_MIGRATIONS[PG_MIGRATIONS.length - 1]!.sql}` }];
        const seen = new Set<number>();
        let done = false;
        const migrating = migrate(c, 'here', { migrate: true, mustExist: false }, slow).finally(() => (done = true));
        await withClient(URL_, async (watcher) => {
          while (!done) {
            seen.add((await readSchemaInfo(watcher)).version);
            await new Promise((r) => setTimeout(r, 50));
          }
          seen.add((await readSchemaInfo(watcher)).version);
        });
        assert.deepEqual(await migrating, PG_MIGRATIONS.map((m) => m.version));
        assert.deepEqual([...seen].sort((a, b) => a - b), [0, PG_LATEST_VERSION], 'no version in between was ever visible');
      });
    });

    it('refuses a database written by a newer schema, naming it without its password, and the fix', async () => {
      await (await connect()).close();
      await withClient(URL_, (c) => c.query(`INSERT INTO ${SCHEMA}.schema_migrations (version, note, package_version) VALUES ($1, 'future', '99.0.0')`, [PG_LATEST_VERSION + 1]));
      const secret = 'not-a-real-password-7d1';
      // Trust auth ignores the password; a server that checks it is given its own URL's.
      const withPassword = new URL(SERVER).password ? URL_ : urlOf(dbName, (u) => (u.password = secret));
      const pw = new URL(withPassword).password;
      await assert.rejects(PgStorage.connect(withPassword), (e: unknown) => {
        assert.ok(e instanceof StorageVersionError, String(e));
        assert.match(e.message, new RegExp(dbName));
        assert.match(e.message, new RegExp(`version ${PG_LATEST_VERSION + 1} is newer`));
        assert.match(e.message, /upgrade renorm-tune, or point --db at another database$/);
        assert.ok(!e.message.includes(pw), `the password leaked: ${e.message}`);
        assert.ok(e.message.includes('***'), e.message);
        return true;
      });
    });

    it('reports the schema and the package version that migrated it; a non-migrating process refuses an old or missing schema', async () => {
      await assert.rejects(PgStorage.connect(URL_, { migrate: false }), (e: unknown) => e instanceof DataError && /holds no renorm-tune schema.*does not migrate/.test(e.message));
      await assert.rejects(PgStorage.connect(URL_, { mustExist: true }), (e: unknown) => e instanceof DataError && /holds no renorm-tune schema/.test(e.message));
      const schemaLeft = await withClient(URL_, async (c) => (await c.query(`SELECT to_regnamespace('${SCHEMA}') AS n`)).rows[0].n);
      assert.equal(schemaLeft, null, 'refusing leaves no schema behind');
      const s = await connect();
      const info = await s.schemaInfo();
      assert.equal(info.version, PG_LATEST_VERSION);
      assert.equal(info.known, PG_LATEST_VERSION);
      assert.equal(info.packageVersion, PACKAGE_VERSION);
      assert.ok(info.migratedAt && Number.isFinite(Date.parse(info.migratedAt)));
      assert.deepEqual((await connect(URL_, { migrate: false })).applied, [], 'a current schema is accepted without migrating');
      await withClient(URL_, (c) => c.query(`DELETE FROM ${SCHEMA}.schema_migrations WHERE version = $1`, [PG_LATEST_VERSION]));
      await assert.rejects(PgStorage.connect(URL_, { migrate: false }),
        (e: unknown) => e instanceof DataError && new RegExp(`schema version ${PG_LATEST_VERSION - 1}, older than this renorm-tune's ${PG_LATEST_VERSION}`).test(e.message));
    });

    it('announces another connection\'s commits through LISTEN/NOTIFY, not lease renewals', async () => {
      const watcher = await connect();
      const writer = await connect();
      const heard: string[] = [];
      let wake: () => void = () => {};
      const stop = watcher.onChange((id) => {
        heard.push(id);
        wake();
      });
      await watcher.changesListening();
      const next = (what: string) => new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no notification for ${what} within 5 s`)), 5000);
        wake = () => {
          clearTimeout(timer);
          resolve(heard[heard.length - 1]!);
        };
      });
      let heardNow = next('createStudy');
      const st = await writer.createStudy({ name: 'n', direction: 'maximize', config: {} });
      assert.equal(await heardNow, st.id);
      heardNow = next('createTrials');
      const [t] = await writer.createTrials(st.id, [newTrial({ state: 'RUNNING', lease: { owner: 'w', seconds: 60 } })]);
      assert.equal(await heardNow, st.id);
      const before = heard.length;
      await writer.renewLease(st.id, t!.id, 1, 120);
      heardNow = next('addIntermediate');
      await writer.addIntermediate(st.id, t!.id, { step: 1, value: 0.5 });
      assert.equal(await heardNow, st.id);
      assert.equal(heard.length, before + 1, 'the lease renewal before it was not announced');
      stop();
    });

    it('moves a study\'s revision once per transaction, however many rows it writes, and lists the rows as changed since the revision before', async () => {
      const writer = await connect();
      const reader = await connect();
      const st = await writer.createStudy({ name: 'many', direction: 'maximize', config: {} });
      await reader.listTrials(st.id, { withIntermediate: false });
      const before = await writer.changeStamp(st.id);
      const made = await writer.createTrials(st.id, Array.from({ length: 300 }, () => newTrial({ state: 'RUNNING', lease: { owner: 'w', seconds: 60 } })));
      assert.equal(await writer.changeStamp(st.id), before + 1, 'one move for 300 trials written in one transaction');
      const revs = await withClient(URL_, (c) => c.query(`SELECT DISTINCT rev FROM ${SCHEMA}.trials WHERE study_id = $1`, [st.id]));
      assert.deepEqual(revs.rows.map((r: { rev: string | number }) => Number(r.rev)), [before + 1], 'every row stamped with it');
      // Separate transactions still move it each.
      await writer.addIntermediate(st.id, made[0]!.id, { step: 1, value: 0.5 });
      await writer.addIntermediate(st.id, made[1]!.id, { step: 1, value: 0.5 });
      assert.equal(await writer.changeStamp(st.id), before + 3);
      // Another connection's incremental listing (rows with rev above the revision it last saw) sees all 300.
      assert.equal((await reader.listTrials(st.id, { withIntermediate: false })).length, 300);
    });

    it('reconnects a dropped LISTEN connection, warns, and announces what changed while it was down', async () => {
      const warnings: string[] = [];
      const watcher = await connect(URL_, { warn: (m) => warnings.push(m) });
      const writer = await connect();
      const st = await writer.createStudy({ name: 'r', direction: 'maximize', config: {} });
      const heard: string[] = [];
      const stop = watcher.onChange((id) => heard.push(id));
      await watcher.changesListening();
      const killed = await withClient(URL_, async (c) => (await c.query(
        "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = $1 AND application_name = 'renorm-tune listen'", [dbName],
      )).rowCount);
      assert.equal(killed, 1, 'exactly one listening connection per storage');
      await writer.setStudyAttr(st.id, 'while', 'down');
      for (let i = 0; i < 100 && !warnings.some((w) => /lost/.test(w)); i++) await sleep(50);
      await watcher.changesListening();
      assert.match(warnings.join('\n'), /change notifications lost/);
      assert.match(warnings.join('\n'), /change notifications are back/);
      assert.ok(heard.includes(st.id), 'the study is announced after the reconnect, so a change made while deaf is not missed');
      heard.length = 0;
      await writer.setStudyState(st.id, 'RUNNING');
      for (let i = 0; i < 100 && heard.length === 0; i++) await sleep(50);
      assert.deepEqual(heard, [st.id], 'notifications flow again');
      stop();
    });

    it('lets a process that stopped listening and forgot close() exit on its own', async () => {
      await (await connect()).close();
      const storageUrl = new URL('../../../src/study/storage/postgres.js', import.meta.url).href;
      const src = `
        const { PgStorage } = await import(${JSON.stringify(storageUrl)});
        const s = await PgStorage.connect(${JSON.stringify(URL_)});
        const stop = s.onChange(() => {});
        await s.changesListening();
        await s.listStudies();
        stop();`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', src], { stdio: ['ignore', 'ignore', 'inherit'] });
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await new Promise((r) => child.once('exit', (c, sig) => r(c ?? sig)));
      clearTimeout(timer);
      assert.equal(code, 0, 'the process must end by itself: no pooled or listening connection may hold it');
    });

    it('lets exactly one of four processes finish a trial; the others get ConflictError', async () => {
      const stores = await Promise.all([1, 2, 3, 4].map(() => connect()));
      const st = await stores[0]!.createStudy({ name: 'race', direction: 'maximize', config: {} });
      const [t] = await stores[0]!.createTrials(st.id, [newTrial()]);
      const claims = await Promise.all(stores.map((s, i) => s.claimTrial(st.id, t!.id, { owner: `w${i}`, seconds: 60 })));
      assert.equal(claims.filter((c) => c !== null).length, 1);
      const finishes = await Promise.allSettled(stores.map((s, i) => s.finishTrial(st.id, t!.id, { state: 'COMPLETE', value: i })));
      const won = finishes.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
      assert.equal(won.length, 1, JSON.stringify(finishes));
      assert.ok(finishes.every((r) => r.status === 'fulfilled' || r.reason instanceof ConflictError));
      assert.equal((await stores[1]!.getTrial(st.id, t!.id))!.value, won[0], 'the stored value is the winner\'s');
    });

    it('renews a lease while another process holds the study\'s write lock: heartbeats do not queue behind writers', async () => {
      const s = await connect();
      const st = await s.createStudy({ name: 'hb', direction: 'maximize', config: {} });
      const [t] = await s.createTrials(st.id, [newTrial({ state: 'RUNNING', lease: { owner: 'w', seconds: 60 } })]);
      await withClient(URL_, async (c) => {
        await c.query('BEGIN');
        await c.query(`SELECT 1 FROM ${SCHEMA}.studies WHERE id = $1 FOR UPDATE`, [st.id]);
        const blocked = s.requestPrune(st.id, t!.id).then(() => 'finished');
        const renewed = await Promise.race([s.renewLease(st.id, t!.id, 1, 120).then(() => 'renewed'), sleep(3000).then(() => 'waited')]);
        assert.equal(renewed, 'renewed');
        assert.equal(await Promise.race([blocked, sleep(200).then(() => 'waiting')]), 'waiting', 'an ordinary write does wait for the study lock');
        await c.query('ROLLBACK');
        assert.equal(await blocked, 'finished');
      });
    });

    it('finds nothing under an id or name holding a NUL, rather than failing', async () => {
      const s = await connect();
      const st = await s.createStudy({ name: 'n', direction: 'maximize', config: {} });
      assert.equal(await s.getStudy(`${st.id}\u0000`), undefined);
      assert.equal(await s.findStudyByName('n\u0000'), undefined);
      assert.deepEqual(await s.listTrials('x\u0000'), []);
      assert.equal(await s.getTrial('x\u0000', 1), undefined);
      await assert.rejects(s.claimTrial('x\u0000', 1, { owner: 'w', seconds: 60 }), NotFoundError);
      await assert.rejects(s.changeStamp('x\u0000'), NotFoundError);
      assert.deepEqual(await s.reapExpiredLeases(st.id, { maxRetries: 1, deadOwners: ['a\u0000'] }), []);
    });

    it('never fails a read on a value stored too deep: it is cut down, with a warning', async () => {
      const warnings: string[] = [];
      const s = await connect(URL_, { warn: (m) => warnings.push(m) });
      const st = await s.createStudy({ name: 'deep', direction: 'maximize', config: {} });
      const [t] = await s.createTrials(st.id, [newTrial({ state: 'RUNNING', lease: { owner: 'w', seconds: 60 } })]);
      const deep = '['.repeat(5000) + ']'.repeat(5000);
      await withClient(URL_, async (c) => {
        await c.query(`INSERT INTO ${SCHEMA}.trial_values (trial_id, step, value, metrics) VALUES ($1, 1, 0.5, $2)`, [t!.id, `{"x":${deep}}`]);
        await c.query(`UPDATE ${SCHEMA}.trials SET metrics = $2 WHERE id = $1`, [t!.id, deep]);
      });
      const back = (await s.getTrial(st.id, t!.id))!;
      assert.equal(back.intermediate[0]!.value, 0.5);
      assert.doesNotThrow(() => JSON.stringify(back), 'the deep values were cut down: the study can be served again');
      assert.equal(warnings.length, 2, warnings.join('\n'));
      assert.match(warnings.join('\n'), /nested more than 32 levels/);
    });

    it('stores what jsonb would refuse and keeps the config verbatim; a NUL in a name is bad input', async () => {
      const s = await connect();
      const config = { z: 1, a: { '\u0000k': 'nul \u0000 and lone \ud800' } };
      const st = await s.createStudy({ name: 'verbatim', direction: 'maximize', config });
      assert.equal(JSON.stringify((await s.getStudy(st.id))!.config), JSON.stringify(config), 'key order and every character survive');
      await assert.rejects(s.createStudy({ name: 'a\u0000b', direction: 'maximize', config: {} }), (e: unknown) => e instanceof ConfigError && /NUL/.test(e.message));
      const [t] = await s.createTrials(st.id, [newTrial({ state: 'RUNNING', lease: { owner: 'host:1', seconds: 60 } })]);
      const failed = await s.finishTrial(st.id, t!.id, { state: 'FAIL', failureReason: 'native \u0000 crash' });
      assert.equal(failed.failureReason, 'native \uFFFD crash', 'a failure is recorded whatever its message holds');
    });

    it('opens through openStorage with a postgres:// URL', async () => {
      const s = await openStorage(URL_);
      try {
        assert.equal(s.kind, 'postgres');
        assert.deepEqual(await s.listStudies(), []);
      } finally {
        await s.close();
      }
    });
  });
}

describe('PgStorage connect errors', () => {
  const refused = (e: unknown, ...patterns: RegExp[]): boolean => {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
    for (const p of patterns) assert.match(e.message, p);
    assert.match(e.message, /\(fix: /);
    return true;
  };

  it('names an unreachable server without its password, and the fix', async () => {
    const secret = 'hunter2-secret';
    const url = `postgres://postgres:${secret}@127.0.0.1:1/${dbName}`;
    const started = Date.now();
    await assert.rejects(openStorage(url), (e: unknown) => {
      refused(e, /127\.0\.0\.1:1/, /connection refused/, /start PostgreSQL/);
      assert.ok(!(e as Error).message.includes(secret), (e as Error).message);
      return true;
    });
    assert.ok(Date.now() - started < 5000, 'a refused connection fails at once, not after a timeout');
  });

  it('gives up on a server that never answers after the connect timeout, naming it', async (t) => {
    const silent: Server = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    t.after(() => silent.close());
    const port = (silent.address() as { port: number }).port;
    const silentUrl = `postgres://postgres@127.0.0.1:${port}/${dbName}?connect_timeout=1`;
    await assert.rejects(PgStorage.connect(silentUrl), (e: unknown) => refused(e, new RegExp(`127\\.0\\.0\\.1:${port}`), /no answer within 1 s/));
  });

  it('names a missing database and a role that does not exist', { skip: unavailable ?? false }, async () => {
    await assert.rejects(PgStorage.connect(urlOf(`${dbName}_missing`)), (e: unknown) => refused(e, new RegExp(`${dbName}_missing`), /does not exist/, /createdb/));
    await assert.rejects(PgStorage.connect(urlOf(dbName, (u) => (u.username = 'renorm_tune_no_such_role'))),
      (e: unknown) => refused(e, /renorm_tune_no_such_role/, /refused the login/));
  });
});
