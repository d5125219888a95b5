// SQLite storage: the shared conformance suite, plus what only a file can show (reopen, migrations, version refusal, cross-process races).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { DataError } from '../../../src/errors.js';
import { SqliteStorage, StorageVersionError, STORAGE_SCHEMA_VERSION, openStorage } from '../../../src/study/storage/index.js';
import { migrate, type Migration } from '../../../src/study/storage/migrations.js';
import { storageConformance } from './conformance.js';

const dir = mkdtempSync(join(tmpdir(), 'renorm-storage-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(dir, `db${n++}.sqlite`);

storageConformance('SqliteStorage (file)', () => new SqliteStorage(fresh()));
storageConformance('SqliteStorage (:memory:)', () => new SqliteStorage(':memory:'));

describe('SqliteStorage file behaviour', () => {
  it('keeps everything across close and reopen', () => {
    const file = fresh();
    const a = new SqliteStorage(file);
    const st = a.createStudy({ name: 'keep', direction: 'maximize', config: { x: 1 } });
    const [t] = a.createTrials(st.id, [{ state: 'RUNNING', params: { w: 0.2 }, schedule: { kind: 'batchnorm' }, seed: 1 }]);
    a.addIntermediate(st.id, t!.id, { step: 5, value: 0.4 });
    a.setStudyAttr(st.id, 'k', [1, 'two']);
    a.close();
    const b = openStorage(file, { mustExist: true });
    assert.deepEqual(b.getStudy(st.id)?.attrs, { k: [1, 'two'] });
    assert.deepEqual(b.getTrial(st.id, t!.id)?.intermediate, [{ step: 5, value: 0.4 }]);
    assert.equal(b.requeueRunning(st.id), 1, 'a trial RUNNING when the process died is requeued on resume');
    b.close();
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
      e instanceof StorageVersionError && e.message.includes(file) && /newer/.test(e.message) && /upgrade renorm-tune/.test(e.message));
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

  it('names the file when it is not a database, and does not create one for read commands', () => {
    const junk = join(dir, 'junk.db');
    writeFileSync(junk, 'this is not sqlite, just text that is long enough to have a header of sorts........');
    assert.throws(() => new SqliteStorage(junk), (e: unknown) => e instanceof DataError && e.message.includes(junk));
    const missing = join(dir, 'missing.db');
    assert.throws(() => openStorage(missing, { mustExist: true }), (e: unknown) => e instanceof DataError && e.message.includes(missing));
    assert.equal(existsSync(missing), false);
  });
});

describe('SqliteStorage concurrency across connections', () => {
  let file: string;
  let studyId: string;
  let trialId: number;
  before(() => {
    file = fresh();
    const s = new SqliteStorage(file);
    studyId = s.createStudy({ name: 'race', direction: 'maximize', config: {} }).id;
    trialId = s.createTrials(studyId, [{ state: 'WAITING', params: {}, schedule: { kind: 'batchnorm' }, seed: 0 }])[0]!.id;
    s.close();
  });

  it('of 4 threads starting then finishing the same trial, exactly one start and one finish win', async () => {
    const storageUrl = new URL('../../../src/study/storage/index.js', import.meta.url).href;
    const src = `
      const { workerData, parentPort } = require('node:worker_threads');
      import(workerData.storageUrl).then(({ SqliteStorage }) => {
        const s = new SqliteStorage(workerData.file);
        const started = s.startTrial(workerData.studyId, workerData.trialId);
        let finished = false, code = null;
        try { s.finishTrial(workerData.studyId, workerData.trialId, { state: 'COMPLETE', value: workerData.value }); finished = true; }
        catch (e) { code = e.code; }
        s.close();
        parentPort.postMessage({ started, finished, code, value: workerData.value });
      });`;
    const results = await Promise.all([1, 2, 3, 4].map((value) => new Promise<{ started: boolean; finished: boolean; code: string | null; value: number }>((resolve, reject) => {
      const w = new Worker(src, { eval: true, workerData: { storageUrl, file, studyId, trialId, value } });
      w.once('message', resolve);
      w.once('error', reject);
    })));
    assert.equal(results.filter((r) => r.started).length, 1, `exactly one start wins: ${JSON.stringify(results)}`);
    const winners = results.filter((r) => r.finished);
    assert.equal(winners.length, 1, `exactly one finish wins: ${JSON.stringify(results)}`);
    assert.deepEqual(results.filter((r) => !r.finished).map((r) => r.code), ['CONFLICT', 'CONFLICT', 'CONFLICT']);
    const s = new SqliteStorage(file);
    assert.equal(s.getTrial(studyId, trialId)!.value, winners[0]!.value, 'the stored value is the winner\'s');
    s.close();
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
      const st = s.createStudy({ name: 'killed', direction: 'maximize', config: {} });
      const [t] = s.createTrials(st.id, [{ state: 'RUNNING', params: {}, schedule: { kind: 'batchnorm' }, seed: 0 }]);
      s.addIntermediate(st.id, t.id, { step: 1, value: 0.5 });
      s.finishTrial(st.id, t.id, { state: 'COMPLETE', value: 0.75 });
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
    const t = s.getTrial(ids.study, ids.trial)!;
    assert.equal(t.state, 'COMPLETE');
    assert.equal(t.value, 0.75);
    assert.deepEqual(t.intermediate, [{ step: 1, value: 0.5 }]);
    s.close();
  });
});
