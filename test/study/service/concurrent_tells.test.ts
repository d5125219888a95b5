// Two real processes telling the same trial of one SQLite file at the same moment: exactly one result is stored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStudyService } from '../../../src/study/service/defaults.js';
import { SqliteStorage } from '../../../src/study/storage/index.js';
import { baseConfig } from './fakes.js';

const defaultsUrl = new URL('../../../src/study/service/defaults.js', import.meta.url).href;
const storageUrl = new URL('../../../src/study/storage/index.js', import.meta.url).href;

/** A child process that opens its own connection, waits for `startAt` (ms since the epoch), then tells `value`s in a tight loop of awaits. */
function teller(file: string, studyId: string, trialId: number, values: number[], startAt: number): Promise<{ ok: number[]; conflicts: number }> {
  const src = `
    const { createStudyService } = await import(${JSON.stringify(defaultsUrl)});
    const { SqliteStorage } = await import(${JSON.stringify(storageUrl)});
    const svc = createStudyService(new SqliteStorage(${JSON.stringify(file)}));
    while (Date.now() < ${startAt}) {}
    const ok = []; let conflicts = 0;
    await Promise.all(${JSON.stringify(values)}.map(async (v) => {
      try { await svc.tell(${JSON.stringify(studyId)}, ${trialId}, { value: v }); ok.push(v); }
      catch (e) { if (e.code === 'CONFLICT') conflicts++; else throw e; }
    }));
    process.stdout.write(JSON.stringify({ ok, conflicts }));
    process.exit(0);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', src], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`teller exited ${code}: ${err}`)))));
}

test('concurrent tells to one trial from two processes: exactly one wins, the rest are 409 CONFLICT, the store holds the winner', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tells-'));
  const file = join(dir, 'db.sqlite');
  try {
    const storage = new SqliteStorage(file);
    const svc = createStudyService(storage);
    const study = await svc.createStudy(baseConfig({ executor: 'external', optimizer: { type: 'random' } }));
    const [t] = await svc.ask(study.id, 1);
    await storage.close();
    const startAt = Date.now() + 1500;
    const [a, b] = await Promise.all([teller(file, study.id, t!.id, [0.1, 0.2, 0.3], startAt), teller(file, study.id, t!.id, [0.4, 0.5, 0.6], startAt)]);
    const winners = [...a.ok, ...b.ok];
    assert.equal(winners.length, 1, `exactly one tell wins: ${JSON.stringify({ a, b })}`);
    assert.equal(a.conflicts + b.conflicts, 5);
    const check = new SqliteStorage(file);
    assert.equal((await check.getTrial(study.id, t!.id))!.value, winners[0]);
    await check.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
