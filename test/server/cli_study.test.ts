// The `studies`/`show`/`export` commands (src/cli/study.ts): show --json is the API body, export is atomic, read commands never create a DB.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../fixtures/cli.js';
import { register, serve, studiesText } from '../../src/cli/study.js';
import { writeFileAtomic } from '../../src/cli/write_out.js';
import { ConfigError } from '../../src/errors.js';
import { validateExportedSchedule, scheduleAt } from '../../src/schedule/index.js';
import { createStudyService } from '../../src/study/service/defaults.js';
import { SqliteStorage } from '../../src/study/storage/index.js';
import { call, start, studyConfig } from './helpers.js';
import { validateStudyConfig } from '../../src/study/config.js';

const dir = mkdtempSync(join(tmpdir(), 'renorm-cli-'));
const db = join(dir, 'studies.db');
let studyId: string;

/** Runs one command in-process and returns what it printed to stdout. */
const cli = (...args: string[]) => runCli(register, ...args);

before(async () => {
  const storage = new SqliteStorage(db);
  const service = createStudyService(storage);
  studyId = (await service.createStudy(validateStudyConfig(studyConfig('cli-study')))).id;
  const trials = await service.ask(studyId, 2);
  await service.report(studyId, trials[0]!.id, 100, 0.7, { metrics: { loss: 0.9 } });
  await service.tell(studyId, trials[0]!.id, { value: 0.93 });
  await service.tell(studyId, trials[1]!.id, { failed: 'diverged' });
  service.close();
  await storage.close();
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('renorm-tune show/studies/export', () => {
  it('show --json prints exactly the body of GET /api/studies/:id, by id or by name', async () => {
    const storage = new SqliteStorage(db);
    const srv = await start({ api: createStudyService(storage) });
    try {
      const api = await call(srv.url, 'GET', `/api/studies/${studyId}`);
      assert.equal(api.status, 200);
      assert.deepEqual(JSON.parse(await cli('show', studyId, '--db', db, '--json')), api.body);
      assert.deepEqual(JSON.parse(await cli('show', 'cli-study', '--db', db, '--json')), api.body);
    } finally {
      await srv.close();
      await storage.close();
    }
  });

  it('show and studies print readable tables', async () => {
    const shown = await cli('show', 'cli-study', '--db', db);
    assert.match(shown, /study\s+cli-study/);
    assert.match(shown, /best\s+0\.93 \(trial #\d+\): (linear|cosine|exponential) ramp/);
    assert.match(shown, /FAIL\s+0\.93|diverged/);
    const listed = await cli('studies', '--db', db);
    assert.match(listed, /^NAME\s+ID\s+STATE\s+PROGRESS\s+BEST/);
    assert.match(listed, new RegExp(`cli-study\\s+${studyId}\\s+RUNNING\\s+2/10\\s+0\\.93`));
    assert.deepEqual(JSON.parse(await cli('studies', '--db', db, '--json')).map((s: { id: string }) => s.id), [studyId]);
    assert.match(studiesText([]), /no studies yet \(start one with `npx renorm-tune run <config\.json>`\)/);
  });

  it('export writes the best schedule atomically, and it resolves with scheduleAt', async () => {
    const out = join(dir, 'best.json');
    await cli('export', 'cli-study', '--db', db, '--out', out);
    const exported = validateExportedSchedule(JSON.parse(readFileSync(out, 'utf8')));
    assert.equal(exported.value, 0.93);
    const row = exported.table[37]!;
    assert.deepEqual({ step: row.step, ...scheduleAt(exported, row.step) }, row);
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp-')), [], 'no temp files left behind');
    assert.equal(JSON.parse(await cli('export', studyId, '--db', db)).trialId, exported.trialId, 'stdout gives the same export');
    assert.equal(JSON.parse(await cli('export', studyId, '--db', db, '--json')).trialId, exported.trialId, '--json without --out: stdout is the export, as without it');
    const summary = JSON.parse(await cli('export', 'cli-study', '--db', db, '--out', join(dir, 'again.json'), '--json'));
    assert.deepEqual({ ...summary, verdict: typeof summary.verdict }, { out: join(dir, 'again.json'), study: 'cli-study', studyId, trialNumber: JSON.parse(readFileSync(out, 'utf8')).trialNumber, winner: null, verdict: 'string' },
      'export takes --json like every management command (it was "unknown option"): with --out, stdout says what was written');
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'again.json'), 'utf8')).trialId, exported.trialId);
    writeFileAtomic(out, '{"replaced": true}\n');
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), { replaced: true });
  });

  it('refuses a missing database without creating it, and an unknown study by name', async () => {
    const missing = join(dir, 'nope.db');
    await assert.rejects(cli('studies', '--db', missing), (e: Error) => e.message.includes(missing) && /no such database/.test(e.message));
    await assert.rejects(cli('show', 'x', '--db', missing), /no such database/);
    assert.equal(existsSync(missing), false);
    await assert.rejects(cli('show', 'no-such-study', '--db', db), /study 'no-such-study'.*not found/);
  });

  it('serve creates the database, serves the API and the dashboard; beyond loopback without a token it refuses first', async () => {
    const fresh = join(dir, 'served.db');
    await assert.rejects(serve({ db: fresh, host: '0.0.0.0', port: '0', env: {} }), (e: unknown) => e instanceof ConfigError && /token/.test(e.message));
    await assert.rejects(serve({ db: fresh, host: '127.0.0.1', port: 'abc', env: {} }),
      (e: unknown) => e instanceof ConfigError && e.field === '--port' && e.message.includes('got "abc"'), 'it said "got NaN"');
    assert.equal(existsSync(fresh), false, 'a refused start creates nothing');
    const srv = await serve({ db: fresh, host: '127.0.0.1', port: '0', env: {} });
    try {
      const health = await call(srv.url, 'GET', '/api/health');
      assert.equal(health.status, 200);
      assert.match(health.body.version, /^\d+\.\d+\.\d+/);
      assert.match((await fetch(`${srv.url}/`)).headers.get('content-type') ?? '', /text\/html/);
      assert.equal((await call(srv.url, 'POST', '/api/studies', studyConfig('served'))).status, 201);
    } finally {
      await srv.stop();
    }
    assert.equal(JSON.parse(await cli('studies', '--db', fresh, '--json'))[0].name, 'served', 'what the server stored is on disk');
  });

  it('the installed binary exits non-zero with a one-line error for a missing database', async () => {
    const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
    const missing = join(dir, 'absent.db');
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(process.execPath, [main, 'export', 'x', '--db', missing], { cwd: dir }, (err, _stdout, stderr) =>
        resolve({ code: err ? (err as { code?: number }).code ?? 1 : 0, stderr }));
    });
    assert.equal(code, 1, stderr);
    assert.match(stderr, /^error: .*absent\.db: no such database file/);
    assert.equal(existsSync(missing), false);
  });
});
