// SQLite storage: the shared conformance suite, plus what only a file can show (reopen, migrations, version refusal, cross-process races).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { DataError } from '../../../src/errors.js';
import { DatabaseFileGoneError, StorageReadOnlyError, StorageUnavailableError } from '../../../src/study/errors.js';
import type { NewTrial } from '../../../src/study/types.js';
import { SqliteStorage, StorageVersionError, STORAGE_SCHEMA_VERSION, openStorage } from '../../../src/study/storage/index.js';
import { MIGRATIONS, migrate, type Migration } from '../../../src/study/storage/migrations.js';
import { BUDGET_COUNT_SQL, createOwnerOnly, enterWal } from '../../../src/study/storage/sqlite.js';
import { storageConformance } from './conformance.js';

const dir = mkdtempSync(join(tmpdir(), 'renorm-storage-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(dir, `db${n++}.sqlite`);

function fakeClock(): { clock: () => number; advance: (ms: number) => Promise<void> } {
  let nowMs = Date.parse('2026-01-01T00:00:00Z');
  return { clock: () => nowMs, advance: async (ms) => void (nowMs += ms) };
}

storageConformance('SqliteStorage (file)', async () => {
  const file = fresh();
  const c = fakeClock();
  return { storage: new SqliteStorage(file, { clock: c.clock }), advance: c.advance, second: async () => new SqliteStorage(file, { clock: c.clock }) };
});
storageConformance('SqliteStorage (:memory:)', async () => {
  const c = fakeClock();
  return { storage: new SqliteStorage(':memory:', { clock: c.clock }), advance: c.advance };
});

describe('SqliteStorage file behaviour', () => {
  it('a database whose whole folder was deleted: the write is refused, saying the results could not be copied out', async () => {
    const sub = join(dir, `gone-folder-${n++}`);
    mkdirSync(sub);
    const s = new SqliteStorage(join(sub, 'x.db'), { warn: () => undefined });
    await s.createStudy({ name: 'gone', direction: 'maximize', config: {} });
    rmSync(sub, { recursive: true });
    await assert.rejects(s.createStudy({ name: 'gone2', direction: 'maximize', config: {} }),
      (e: unknown) => e instanceof DatabaseFileGoneError && /was deleted .*the results could not be copied out \(.+\); restore .*x\.db from a backup\)$/.test(e.message));
    await s.close();
  });

  for (const [what, lose, said] of [
    ['deleted', (file: string) => rmSync(file), /was deleted/],
    ['replaced (mv over it)', (file: string) => { const other = `${file}.other`; new Database(other).close(); renameSync(other, file); }, /was replaced by another file/],
    ['its -wal deleted', (file: string) => rmSync(`${file}-wal`), /lost its -wal file/],
  ] as const) {
    it(`a database file ${what} under an open connection: the next write copies everything out once and refuses, naming the copy`, async () => {
      const file = fresh();
      const warned: string[] = [];
      const s = new SqliteStorage(file, { warn: (m) => warned.push(m) });
      const st = await s.createStudy({ name: 'gone', direction: 'maximize', config: {} });
      const [t] = await s.createTrials(st.id, [{ state: 'RUNNING', role: 'search', params: { w: 0.2 }, schedule: { kind: 'batchnorm' }, lease: { owner: 'me', seconds: 60 } }]);
      await s.addIntermediate(st.id, t!.id, { step: 5, value: 0.4 }); // in the -wal only: no checkpoint has run
      lose(file);
      let copy = '';
      await assert.rejects(s.finishTrial(st.id, t!.id, { state: 'COMPLETE', value: 0.9 }), (e: unknown) => {
        assert.ok(e instanceof DatabaseFileGoneError, String(e));
        assert.equal(e.status, 503);
        assert.match(e.message, said);
        copy = /saved in (.+\.db); move it to/.exec(e.message)?.[1] ?? '';
        assert.match(e.message, /run the same command again to resume\)$/);
        return true;
      });
      await assert.rejects(s.addIntermediate(st.id, t!.id, { step: 6, value: 0.5 }), DatabaseFileGoneError, 'every later write is refused');
      assert.equal(warned.length, 1, 'copied and said once');
      const files = readdirSync(dir).filter((f) => f.includes('.recovered-'));
      assert.equal(files.filter((f) => copy.endsWith(f)).length, 1, `${copy} among ${files.join(', ')}`);
      assert.equal(statSync(copy).mode & 0o777, 0o600, 'the copy is as private as the database');
      await s.close();
      const back = new SqliteStorage(copy);
      const trial = (await back.getTrial(st.id, t!.id))!;
      assert.deepEqual([trial.state, trial.intermediate], ['RUNNING', [{ step: 5, value: 0.4 }]], 'the copy holds what was written before the loss, the refused write not');
      await back.close();
      rmSync(copy);
    });
  }

  it('keeps everything across close and reopen', async () => {
    const file = fresh();
    const a = new SqliteStorage(file);
    const st = await a.createStudy({ name: 'keep', direction: 'maximize', config: { x: 1 } });
    const [t] = await a.createTrials(st.id, [{ state: 'RUNNING', role: 'search', params: { w: 0.2 }, schedule: { kind: 'batchnorm' }, lease: { owner: 'me', seconds: 60 } }]);
    await a.addIntermediate(st.id, t!.id, { step: 5, value: 0.4 });
    await a.setStudyAttr(st.id, 'k', [1, 'two']);
    await a.close();
    const b = await openStorage(file, { mustExist: true });
    assert.deepEqual((await b.getStudy(st.id))?.attrs, { k: [1, 'two'] });
    const back = (await b.getTrial(st.id, t!.id))!;
    assert.deepEqual(back.intermediate, [{ step: 5, value: 0.4 }]);
    assert.equal(back.lease?.owner, 'me', 'the lease survives a restart: only its expiry (or its owner\'s death) frees the trial');
    await b.close();
  });

  it('creates the database and its WAL files readable by the owner only (0600)', async () => {
    const file = fresh();
    const s = new SqliteStorage(file);
    await s.createStudy({ name: 'private', direction: 'maximize', config: {} });
    for (const f of [file, `${file}-wal`, `${file}-shm`]) {
      if (!existsSync(f)) continue;
      assert.equal(statSync(f).mode & 0o777, 0o600, `${f} must be 0600`);
    }
    await s.close();
  });

  it('migrates a version-2 database: labels become roles, running trials get an expired lease, the search clock is kept', async () => {
    const file = fresh();
    const db = new Database(file);
    migrate(db, file, MIGRATIONS.slice(0, 2));
    db.prepare("INSERT INTO studies (id, name, direction, state, config, created_at) VALUES ('abc', 'old', 'maximize', 'RUNNING', '{\"seed\":1}', 'x')").run();
    db.prepare("INSERT INTO study_attrs (study_id, key, value) VALUES ('abc', 'searchSeconds', '12.5')").run();
    const ins = db.prepare("INSERT INTO trials (study_id, number, state, params, schedule, label, seed, created_at) VALUES ('abc', ?, ?, '{}', '{\"kind\":\"batchnorm\"}', ?, 1, 'x')");
    ins.run(0, 'COMPLETE', 'batchnorm');
    ins.run(1, 'RUNNING', null);
    ins.run(2, 'WAITING', 'final:best');
    db.close();
    const s = new SqliteStorage(file);
    const trials = await s.listTrials('abc');
    assert.deepEqual(trials.map((t) => t.role), ['baseline:batchnorm', 'search', 'final:best']);
    assert.equal((await s.getStudy('abc'))!.searchSeconds, 12.5);
    assert.equal((await s.getStudy('abc'))!.attrs.searchSeconds, undefined);
    const reaped = await s.reapExpiredLeases('abc', { maxRetries: 2 });
    assert.deepEqual(reaped.map((t) => [t.number, t.state]), [[1, 'WAITING']], 'a trial RUNNING under version 2 is requeued by the next run');
    assert.equal((await s.createTrials('abc', [{ state: 'WAITING', role: 'baseline:batchnorm', key: 'baseline:batchnorm', params: {}, schedule: { kind: 'batchnorm' } }])).length, 0,
      'the old baseline holds its key: it is not created twice');
    await s.close();
  });

  it('migrates a version-3 database: its trials are listed whole, then each change is stamped and listed again', async () => {
    const file = fresh();
    const db = new Database(file);
    migrate(db, file, MIGRATIONS.slice(0, 3));
    db.prepare("INSERT INTO studies (id, name, direction, state, config, created_at) VALUES ('abc', 'old', 'maximize', 'RUNNING', '{\"seed\":1}', 'x')").run();
    const ins = db.prepare("INSERT INTO trials (study_id, number, state, params, schedule, seed, created_at, value) VALUES ('abc', ?, ?, '{}', '{\"kind\":\"batchnorm\"}', 1, 'x', ?)");
    ins.run(0, 'COMPLETE', 0.5);
    ins.run(1, 'WAITING', null);
    db.close();
    const s = new SqliteStorage(file);
    const other = new SqliteStorage(file);
    try {
      const listed = async () => (await s.listTrials('abc', { withIntermediate: false })).map((t) => [t.number, t.state, t.value]);
      assert.deepEqual(await listed(), [[0, 'COMPLETE', 0.5], [1, 'WAITING', null]]);
      const [t1] = (await other.listTrials('abc')).slice(1);
      const held = (await other.claimTrial('abc', t1!.id, { owner: 'o', seconds: 60 }))!;
      await other.finishTrial('abc', t1!.id, { state: 'COMPLETE', value: 0.7 }, { token: held.token });
      await other.createTrials('abc', [{ state: 'WAITING', role: 'search', params: {}, schedule: { kind: 'batchnorm' } }]);
      assert.deepEqual(await listed(), [[0, 'COMPLETE', 0.5], [1, 'COMPLETE', 0.7], [2, 'WAITING', null]]);
      const check = new Database(file, { readonly: true });
      const revs = check.prepare("SELECT number, rev FROM trials WHERE study_id = 'abc' ORDER BY number").all() as { number: number; rev: number }[];
      const revision = (check.prepare("SELECT revision FROM studies WHERE id = 'abc'").get() as { revision: number }).revision;
      check.close();
      assert.equal(revs[0]!.rev, 0, 'an untouched old row keeps rev 0');
      assert.ok(revs[1]!.rev > 0 && revs[1]!.rev < revs[2]!.rev && revs[2]!.rev === revision, `each change stamped with the study revision: ${JSON.stringify(revs)}, revision ${revision}`);
    } finally {
      await s.close();
      await other.close();
    }
  });

  it('migrates a version-4 database: an ask counts the budget spent from the role index, not the trial rows', async () => {
    const file = fresh();
    const db = new Database(file);
    migrate(db, file, MIGRATIONS.slice(0, 4));
    const plan = () => (db.prepare(`EXPLAIN QUERY PLAN ${BUDGET_COUNT_SQL}`).all('abc') as { detail: string }[]).map((r) => r.detail).join('; ');
    assert.doesNotMatch(plan(), /COVERING INDEX/, `version 4: ${plan()}`);
    db.close();
    const s = new SqliteStorage(file);
    try {
      const a = await s.createStudy({ name: 'counted', direction: 'maximize', config: {} });
      const t = { state: 'WAITING' as const, params: {}, schedule: { kind: 'batchnorm' as const } };
      await s.createTrials(a.id, [{ ...t, role: 'baseline:paper' }, { ...t, role: 'search' }, { ...t, role: 'final:best' }]);
      assert.equal((await s.createTrials(a.id, [{ ...t, role: 'search' }, { ...t, role: 'search' }], { budget: 3 })).length, 1, 'two of three spent: one more granted');
    } finally {
      await s.close();
    }
    const after = new Database(file, { readonly: true });
    const detail = (after.prepare(`EXPLAIN QUERY PLAN ${BUDGET_COUNT_SQL}`).all('abc') as { detail: string }[]).map((r) => r.detail).join('; ');
    after.close();
    assert.match(detail, /COVERING INDEX trials_by_role/);
  });

  it('never fails a read on a value stored too deep or corrupt: it is cut down or skipped, with a warning', async () => {
    const file = fresh();
    const warnings: string[] = [];
    const s = new SqliteStorage(file, { warn: (m) => warnings.push(m) });
    const st = await s.createStudy({ name: 'poisoned', direction: 'maximize', config: {} });
    const [t] = await s.createTrials(st.id, [{ state: 'RUNNING', role: 'search', params: {}, schedule: { kind: 'batchnorm' }, lease: { owner: 'me', seconds: 60 } }]);
    await s.close();
    const db = new Database(file);
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    db.prepare('INSERT INTO trial_values (trial_id, step, value, metrics) VALUES (?, 1, 0.5, ?)').run(t!.id, `{"x":${deep}}`);
    db.prepare('UPDATE trials SET metrics = ? WHERE id = ?').run('{not json', t!.id);
    db.close();
    const r = new SqliteStorage(file, { warn: (m) => warnings.push(m) });
    const back = (await r.getTrial(st.id, t!.id))!;
    assert.equal(back.intermediate.length, 1);
    assert.equal(back.intermediate[0]!.value, 0.5);
    assert.equal(back.metrics, null, 'unparsable metrics read as null');
    assert.doesNotThrow(() => JSON.stringify(back), 'the deep value was cut down: the study can be served again');
    assert.equal(warnings.length, 2, warnings.join('\n'));
    assert.match(warnings.join('\n'), /nested more than 32 levels/);
    assert.match(warnings.join('\n'), /not valid JSON/);
    await r.close();
  });

  it('uses WAL and records the schema version', () => {
    const file = fresh();
    new SqliteStorage(file).close();
    const db = new Database(file);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('user_version', { simple: true }), STORAGE_SCHEMA_VERSION);
    db.close();
  });

  it('refuses a database from a newer version, naming the file and the fix', () => {
    const file = fresh();
    new SqliteStorage(file).close();
    const db = new Database(file);
    db.pragma(`user_version = ${STORAGE_SCHEMA_VERSION + 1}`);
    db.close();
    assert.throws(() => new SqliteStorage(file), (e: unknown) =>
      e instanceof StorageVersionError && e.message.includes(file) && /newer/.test(e.message) && /upgrade renorm-tune, or point --db at another file$/.test(e.message));
  });

  it('applies pending migrations in order, each atomically; a failing one leaves the previous version', () => {
    const db = new Database(':memory:');
    const steps: Migration[] = [
      { version: 1, note: 'a', sql: 'CREATE TABLE a (x INTEGER);' },
      { version: 2, note: 'b', sql: 'CREATE TABLE b (y INTEGER);' },
    ];
    assert.deepEqual(migrate(db, 'mem', steps.slice(0, 1)), [1]);
    assert.deepEqual(migrate(db, 'mem', steps), [2], 'only the pending migration runs');
    assert.deepEqual(migrate(db, 'mem', steps), []);
    const broken = [...steps, { version: 3, note: 'c', sql: 'CREATE TABLE c (z INTEGER); CREATE TABLE a (dup INTEGER);' }];
    assert.throws(() => migrate(db, 'mem', broken), /already exists/);
    assert.equal(db.pragma('user_version', { simple: true }), 2);
    assert.deepEqual(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'c'").get(), { n: 0 }, 'the failed migration rolled back');
    db.close();
  });

  it('applies every pending migration in one transaction: a new file shows no schema or the whole, never a version in between', () => {
    // A worker waiting for its coordinator to create the file would read a version in between as an old schema.
    const db = new Database(':memory:');
    const steps: Migration[] = [
      { version: 1, note: 'a', sql: 'CREATE TABLE a (x INTEGER);' },
      { version: 2, note: 'b', sql: 'CREATE TABLE b (y INTEGER);' },
      { version: 3, note: 'c', sql: 'CREATE TABLE c (z INTEGER); CREATE TABLE a (dup INTEGER);' },
    ];
    assert.throws(() => migrate(db, 'mem', steps), /already exists/);
    assert.equal(db.pragma('user_version', { simple: true }), 0, 'the failure of the last left the version the file had, not the one before it');
    assert.deepEqual(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get(), { n: 0 }, 'and none of the earlier ones\' tables');
    assert.deepEqual(migrate(db, 'mem', steps.slice(0, 2)), [1, 2]);
    db.close();
  });

  it('names the file when it is not a database, and does not create one for read commands', async () => {
    const junk = join(dir, 'junk.db');
    writeFileSync(junk, 'this is not sqlite, just text that is long enough to have a header of sorts........');
    assert.throws(() => new SqliteStorage(junk), (e: unknown) => e instanceof DataError && e.message.includes(junk));
    const missing = join(dir, 'missing.db');
    await assert.rejects(openStorage(missing, { mustExist: true }), (e: unknown) => e instanceof DataError && e.message.includes(missing));
    assert.equal(existsSync(missing), false);
  });
  it("refuses another application's SQLite file, and leaves it exactly as it was", () => {
    const other = join(dir, 'other-app.sqlite');
    const db = new Database(other);
    db.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users (name) VALUES ('alice')");
    db.close();
    const before = readFileSync(other);
    assert.throws(() => new SqliteStorage(other), (e: unknown) =>
      e instanceof DataError && e.message.includes(other) && /another application's/.test(e.message) && /users/.test(e.message) && /--db/.test(e.message));
    assert.deepEqual(readFileSync(other), before, 'no tables added, no WAL mode switched on');
    assert.equal(existsSync(`${other}-wal`), false);
    const back = new Database(other);
    assert.deepEqual(back.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all(), [{ name: 'users' }]);
    back.close();
  });

  it('a full disk is a 503 naming the file and the fix, and the write leaves nothing behind', async () => {
    const file = fresh();
    const s = new SqliteStorage(file);
    const st = await s.createStudy({ name: 'full', direction: 'maximize', config: {} });
    // The disk fills: SQLite answers SQLITE_FULL exactly as it does when the file cannot grow past max_page_count.
    const db = (s as unknown as { db: Database.Database }).db;
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    const big = { note: 'x'.repeat(3000) };
    const many: NewTrial[] = Array.from({ length: 20 }, () => ({ state: 'WAITING', role: 'search', params: big, schedule: { kind: 'batchnorm' } }));
    await assert.rejects(s.createTrials(st.id, many), (e: unknown) =>
      e instanceof StorageUnavailableError && e.status === 503 && e.message.includes(file) && /full/.test(e.message) && /free space/.test(e.message) &&
      /nothing was written/.test(e.message));
    assert.deepEqual(await s.listTrials(st.id), []);
    await s.close();
  });

  it('a database turned read-only is a 503 naming the file and the fix, and nothing is written', async () => {
    const file = fresh();
    const s = new SqliteStorage(file);
    const st = await s.createStudy({ name: 'ro', direction: 'maximize', config: {} });
    // SQLite answers a write to a file it may not write with SQLITE_READONLY, as it does under query_only.
    (s as unknown as { db: Database.Database }).db.pragma('query_only = 1');
    await assert.rejects(s.setStudyState(st.id, 'RUNNING'), (e: unknown) =>
      e instanceof StorageReadOnlyError && e.status === 503 && e.message.includes(file) && /read-only/.test(e.message) && /fix: make both writable/.test(e.message));
    assert.equal((await s.getStudy(st.id))!.state, 'CREATED');
    await s.close();
  });

  it('a database in a read-only folder: the error names the file, why and the fix', { skip: process.getuid?.() === 0 ? 'root may write anything: file modes cannot make a read-only folder' : false }, () => {
    const folder = mkdtempSync(join(dir, 'ro-'));
    const file = join(folder, 'kept.db');
    new SqliteStorage(file).close();
    chmodSync(file, 0o444);
    chmodSync(folder, 0o555);
    try {
      assert.throws(() => new SqliteStorage(file, { mustExist: true }), (e: unknown) =>
        e instanceof DataError && e.message.includes(file) && /read-only/.test(e.message) && /-wal and -shm/.test(e.message) && /fix: /.test(e.message));
    } finally {
      chmodSync(folder, 0o755);
    }
  });

  it('a folder given as the database is named as a folder, with a file name to use', () => {
    const folder = mkdtempSync(join(dir, 'folder-'));
    assert.throws(() => new SqliteStorage(folder), (e: unknown) =>
      e instanceof DataError && e.message.includes(folder) && /is a folder/.test(e.message) && e.message.includes(join(folder, 'renorm-tune.db')));
  });

  it('a truncated database is called damaged, with the fix, not "not a renorm-tune database"', async () => {
    const file = fresh();
    const s = new SqliteStorage(file);
    const st = await s.createStudy({ name: 'cut', direction: 'maximize', config: {} });
    await s.createTrials(st.id, Array.from({ length: 40 }, (): NewTrial => ({ state: 'WAITING', role: 'search', params: { note: 'x'.repeat(2000) }, schedule: { kind: 'batchnorm' } })));
    await s.close();
    const cut = join(dir, 'cut.db');
    writeFileSync(cut, readFileSync(file).subarray(0, 16384));
    assert.throws(() => new SqliteStorage(cut, { mustExist: true }), (e: unknown) =>
      e instanceof DataError && e.message.includes(cut) && /damaged/.test(e.message) && /fix: restore it from a backup/.test(e.message) && !/not a renorm-tune/.test(e.message));
  });

  it('opens an empty file as a new database (the file a previous open created)', async () => {
    const file = fresh();
    writeFileSync(file, '');
    const s = new SqliteStorage(file);
    assert.deepEqual(await s.listStudies(), []);
    await s.close();
  });
});

describe('SqliteStorage: a new file opened by several connections at once', () => {
  it('createOwnerOnly makes a new file 0600 and leaves an existing one as it is, without an error', () => {
    const file = fresh();
    createOwnerOnly(file);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    writeFileSync(file, 'kept');
    createOwnerOnly(file);
    assert.equal(readFileSync(file, 'utf8'), 'kept');
  });

  it('enterWal waits out another opener\'s write lock, which SQLite answers busy at once, and gives up at its timeout', async () => {
    const file = fresh();
    new Database(file).close();
    // Another thread holds the write lock of the rollback-mode file, as a racing opener does mid-switch, until told.
    const holder = new Worker(`
      const { workerData, parentPort } = require('node:worker_threads');
      const db = new (require(workerData.sqlite))(workerData.file);
      db.exec('BEGIN IMMEDIATE');
      parentPort.postMessage('holding');
      parentPort.once('message', () => { db.exec('COMMIT'); db.close(); parentPort.postMessage('released'); });`,
    { eval: true, workerData: { file, sqlite: createRequire(import.meta.url).resolve('better-sqlite3') } });
    const released = new Promise((r) => holder.on('message', (m) => m === 'released' && r(m)));
    await new Promise((r) => holder.once('message', r));
    const db = new Database(file);
    db.pragma('busy_timeout = 5000');
    assert.throws(() => db.pragma('journal_mode = WAL'), { code: 'SQLITE_BUSY' }, 'SQLite does not wait on its own');
    assert.throws(() => enterWal(db, 20), { code: 'SQLITE_BUSY' }, 'a short timeout gives up');
    // The holder lets go while this thread is blocked inside enterWal, which then gets the switch.
    holder.postMessage('release');
    enterWal(db, 5000);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    db.close();
    await released;
    await holder.terminate();
  });

  it('6 threads released together open the same new file: every one opens it (none loses the create)', async () => {
    const storageUrl = new URL('../../../src/study/storage/index.js', import.meta.url).href;
    // Each thread checks in, then blocks until all 6 have, so their existence checks and creates overlap.
    const src = `
      const { workerData, parentPort } = require('node:worker_threads');
      import(workerData.storageUrl).then(async ({ SqliteStorage }) => {
        const gate = new Int32Array(workerData.gate);
        Atomics.add(gate, 0, 1);
        Atomics.wait(gate, 1, 0);
        try {
          const s = new SqliteStorage(workerData.file);
          await s.listStudies();
          await s.close();
          parentPort.postMessage(null);
        } catch (e) { parentPort.postMessage(e.message); }
      });`;
    for (let round = 0; round < 5; round++) {
      const file = fresh();
      const gate = new Int32Array(new SharedArrayBuffer(8));
      const errors = Promise.all(Array.from({ length: 6 }, () => new Promise<string | null>((resolve, reject) => {
        const w = new Worker(src, { eval: true, workerData: { storageUrl, file, gate: gate.buffer } });
        w.once('message', resolve);
        w.once('error', reject);
      })));
      while (Atomics.load(gate, 0) < 6) await new Promise((r) => setTimeout(r, 5));
      Atomics.store(gate, 1, 1);
      Atomics.notify(gate, 1);
      assert.deepEqual(await errors, Array(6).fill(null), `round ${round}`);
      assert.equal(statSync(file).mode & 0o777, 0o600);
    }
  });
});

describe('SqliteStorage concurrency across connections', () => {
  let file: string;
  let studyId: string;
  let trialId: number;
  before(async () => {
    file = fresh();
    const s = new SqliteStorage(file);
    studyId = (await s.createStudy({ name: 'race', direction: 'maximize', config: {} })).id;
    trialId = (await s.createTrials(studyId, [{ state: 'WAITING', role: 'search', params: {}, schedule: { kind: 'batchnorm' } }]))[0]!.id;
    await s.close();
  });

  it('of 4 threads claiming then finishing the same trial, exactly one claim and one finish win', async () => {
    const storageUrl = new URL('../../../src/study/storage/index.js', import.meta.url).href;
    const src = `
      const { workerData, parentPort } = require('node:worker_threads');
      import(workerData.storageUrl).then(async ({ SqliteStorage }) => {
        const s = new SqliteStorage(workerData.file);
        const lease = await s.claimTrial(workerData.studyId, workerData.trialId, { owner: 'w' + workerData.value, seconds: 60 });
        let finished = false, code = null;
        try { await s.finishTrial(workerData.studyId, workerData.trialId, { state: 'COMPLETE', value: workerData.value }); finished = true; }
        catch (e) { code = e.code; }
        await s.close();
        parentPort.postMessage({ started: lease !== null, finished, code, value: workerData.value });
      });`;
    const results = await Promise.all([1, 2, 3, 4].map((value) => new Promise<{ started: boolean; finished: boolean; code: string | null; value: number }>((resolve, reject) => {
      const w = new Worker(src, { eval: true, workerData: { storageUrl, file, studyId, trialId, value } });
      w.once('message', resolve);
      w.once('error', reject);
    })));
    assert.equal(results.filter((r) => r.started).length, 1, `exactly one claim wins: ${JSON.stringify(results)}`);
    const winners = results.filter((r) => r.finished);
    assert.equal(winners.length, 1, `exactly one finish wins: ${JSON.stringify(results)}`);
    assert.deepEqual(results.filter((r) => !r.finished).map((r) => r.code), ['CONFLICT', 'CONFLICT', 'CONFLICT']);
    const s = new SqliteStorage(file);
    assert.equal((await s.getTrial(studyId, trialId))!.value, winners[0]!.value, 'the stored value is the winner\'s');
    await s.close();
  });
});

describe('SqliteStorage durability', () => {
  it('keeps every change a process made before it was SIGKILLed (WAL, synchronous=NORMAL)', async () => {
    const file = fresh();
    const storageUrl = new URL('../../../src/study/storage/index.js', import.meta.url).href;
    // The child writes, says so, then hangs: nothing after the write (no close, no checkpoint) can help it.
    const src = `
      const { SqliteStorage } = await import(${JSON.stringify(storageUrl)});
      const s = new SqliteStorage(${JSON.stringify(file)});
      const st = await s.createStudy({ name: 'killed', direction: 'maximize', config: {} });
      const [t] = await s.createTrials(st.id, [{ state: 'RUNNING', role: 'search', params: {}, schedule: { kind: 'batchnorm' }, lease: { owner: 'me', seconds: 60 } }]);
      await s.addIntermediate(st.id, t.id, { step: 1, value: 0.5 });
      await s.finishTrial(st.id, t.id, { state: 'COMPLETE', value: 0.75 });
      process.stdout.write(JSON.stringify({ study: st.id, trial: t.id }) + '\\n');
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', src], { stdio: ['ignore', 'pipe', 'inherit'] });
    const ids = await new Promise<{ study: string; trial: number }>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(JSON.parse(out));
      });
      child.once('exit', (code) => reject(new Error(`child exited early (${code})`)));
    });
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    const s = new SqliteStorage(file);
    const t = (await s.getTrial(ids.study, ids.trial))!;
    assert.equal(t.state, 'COMPLETE');
    assert.equal(t.value, 0.75);
    assert.deepEqual(t.intermediate, [{ step: 1, value: 0.5 }]);
    await s.close();
  });
});
