import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { countsTowardBudget, roleKind } from '../../src/shared/roles.js';
import { SqliteStorage } from '../../src/study/storage/index.js';
import type { TrialRecord } from '../../src/study/types.js';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const fakeTrainer = fileURLToPath(new URL('../fixtures/workers/fake_trainer.js', import.meta.url));

function runCli(args: string[]): ChildProcess {
  return spawn(process.execPath, [main, 'run', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> {
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return new Promise((r) => child.on('exit', (code, signal) => r({ code, signal, out })));
}

async function trials(db: string): Promise<TrialRecord[]> {
  const s = new SqliteStorage(db);
  try {
    const study = await s.findStudyByName('crash');
    return study ? await s.listTrials(study.id) : [];
  } finally {
    await s.close();
  }
}

const isSearchWork = (t: { role: string }) => countsTowardBudget(t.role);

test('run: Ctrl-C stops cleanly, SIGKILL mid-study loses nothing, and a rerun completes the study', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'renorm-kill-'));
  const db = join(dir, 'study.db');
  const config = join(dir, 'crash.json');
  writeFileSync(config, JSON.stringify({
    name: 'crash',
    scenario: { steps: 100, evalInterval: 10 },
    budget: { trials: 14 },
    workers: 2,
    optimizer: { type: 'random' },
    finalValidation: { seeds: 2, race: { candidates: 2, seeds: 1 } },
  }));
  const args = [config, '--db', db, '--trial-worker', fakeTrainer];
  const completeCount = async () => (await trials(db)).filter((t) => t.state === 'COMPLETE').length;
  try {
    // Ctrl-C first: a clean stop leaves nothing RUNNING and the study STOPPED.
    const interrupted = runCli(args);
    const interruptedExit = exited(interrupted);
    for (let i = 0; i < 600 && (await completeCount()) < 2; i++) await new Promise((r) => setTimeout(r, 50));
    interrupted.kill('SIGINT');
    const stopped = await interruptedExit;
    assert.equal(stopped.code, 130, stopped.out);
    assert.match(stopped.out, /resume: npx renorm-tune run/);
    assert.equal((await trials(db)).filter((t) => t.state === 'RUNNING').length, 0, 'cancelled trials went back to WAITING');
    const s = new SqliteStorage(db);
    assert.equal((await s.findStudyByName('crash'))!.state, 'STOPPED');
    await s.close();

    const first = runCli(args);
    const firstExit = exited(first);
    // Kill -9 as soon as a few trials are COMPLETE and one is training (polling the database the child is writing,
    // as a user would): a kill between two trials would leave nothing RUNNING to recover.
    const killable = async () => {
      const now = await trials(db);
      return now.filter((t) => t.state === 'COMPLETE').length >= 5 && now.some((t) => t.state === 'RUNNING');
    };
    for (let i = 0; i < 600 && !(await killable()); i++) await new Promise((r) => setTimeout(r, 50));
    first.kill('SIGKILL');
    const killed = await firstExit;
    assert.equal(killed.signal, 'SIGKILL', `the first run finished before it could be killed:\n${killed.out}`);
    const before = await trials(db);
    const completeBefore = before.filter((t) => t.state === 'COMPLETE');
    assert.ok(completeBefore.length >= 5 && before.filter(isSearchWork).length <= 14);
    assert.ok(before.some((t) => t.state === 'RUNNING'), 'the kill left trials RUNNING under its leases');

    const second = await exited(runCli(args));
    assert.equal(second.code, 0, second.out);
    assert.match(second.out, /continuing the study/);
    for (const t of before.filter((b) => b.state === 'RUNNING')) {
      assert.match(second.out, new RegExp(`trial #${t.number}\\b[^\\n]*left RUNNING by a run that is gone[^\\n]*queued again \\(retry 1\\)`),
        `the resume says which of the dead run's trials it requeued:\n${second.out}`);
    }
    assert.match(second.out, /final validation on the test set/);
    const after = await trials(db);
    for (const t of completeBefore) assert.deepEqual(after.find((a) => a.id === t.id), t, `COMPLETE trial ${t.id} changed by the resume`);
    const search = after.filter(isSearchWork);
    assert.equal(search.length, 14, 'the budget holds across the crash');
    assert.ok(search.every((t) => t.state === 'COMPLETE'), search.map((t) => `${t.id}:${t.state}`).join(' '));
    assert.ok(search.some((t) => t.retries === 1), 'the killed run\'s trials were requeued at once (their owner is dead), not failed');
    assert.equal(after.filter((t) => roleKind(t.role) === 'race').length, 2, 'the race: the top 2 tuned trials x 1 seed');
    assert.equal(after.filter((t) => t.role.startsWith('final:')).length, 6, 'final validation: 3 schedules x 2 seeds');
    assert.match(second.out, /verdict: /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
