// `renorm-tune run` end to end with a fast fake trainer: --json lines, a finished study re-run, --warm-start-from, /api/health under --port, and --workers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bestLine, companionFlags, extendedFrom, localExecutorFlags, workersOption, workersWarning } from '../../src/cli/run.js';
import { ConfigError } from '../../src/errors.js';
import { PACKAGE_VERSION } from '../../src/version.js';
import { SqliteStorage } from '../../src/study/storage/index.js';
import { gpuBackendPresent, installed } from '../fixtures/installed.js';
import { fakeGpuEnv } from '../fixtures/fake_gpu/index.js';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const nativeInstalled = installed('@tensorflow/tfjs-node');
const fakeTrainer = fileURLToPath(new URL('../fixtures/workers/fake_trainer.js', import.meta.url));

function run(args: string[], trainer = fakeTrainer): ChildProcess {
  return spawn(process.execPath, [main, 'run', ...args, '--trial-worker', trainer], { stdio: ['ignore', 'pipe', 'pipe'] });
}

function collect(child: ChildProcess): { out: () => string; err: () => string; exit: Promise<number | null> } {
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  return { out: () => out, err: () => err, exit: new Promise((r) => child.on('exit', (code) => r(code))) };
}

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'renorm-run-'));
  const config = (name: string) => {
    const p = join(dir, `${name}.json`);
    writeFileSync(p, JSON.stringify({ name, scenario: { steps: 20, evalInterval: 5 }, budget: { trials: 4 }, workers: 1, optimizer: 'random', finalValidation: { seeds: 0, race: { candidates: 1 } } }));
    return p;
  };
  return { dir, db: join(dir, 'run.db'), config };
}

test('run --json: stdout is JSON lines only (events, then one summary); a re-run of the finished study says it is complete', async () => {
  const { dir, db, config } = setup();
  try {
    const first = collect(run([config('jsonl'), '--db', db, '--json']));
    assert.equal(await first.exit, 0, first.err());
    const lines = first.out().trim().split('\n').map((l) => JSON.parse(l) as { event: string; [k: string]: unknown });
    const kinds = new Set(lines.map((l) => l.event));
    for (const k of ['phase', 'trial', 'progress', 'report', 'summary']) assert.ok(kinds.has(k), `no ${k} event in ${[...kinds]}`);
    const summary = lines.at(-1)!;
    assert.equal(summary.event, 'summary');
    assert.equal(summary.state, 'COMPLETE');
    assert.equal((summary.counts as { COMPLETE: number }).COMPLETE, 4);
    assert.equal(typeof (summary.best as { number: number }).number, 'number');
    assert.equal(lines.filter((l) => l.event === 'summary').length, 1);
    const done = lines.filter((l) => l.event === 'trial' && (l.trial as { state: string }).state === 'COMPLETE').map((l) => (l.trial as { number: number }).number);
    assert.deepEqual([...new Set(done)].sort(), [0, 1, 2, 3], 'trials are named by their numbers');
    assert.match(first.err(), /study jsonl \(\w+\): COMPLETE/, 'the text summary moves to stderr');
    // A command to paste works in a clone, where the binary is not on PATH.
    assert.match(first.err(), new RegExp(`export the recommended schedule: npx renorm-tune export jsonl --db ${db.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} --out best-schedule\\.json`));

    const again = collect(run([config('jsonl'), '--db', db]));
    assert.equal(await again.exit, 0, again.err());
    assert.match(again.err(), /'jsonl' is already complete; showing its results/);
    assert.doesNotMatch(again.err(), /continuing the study|resuming/);
    assert.doesNotMatch(again.err(), /ignored edits/, 'the same file is no edit');

    // Every stored field wins on a rerun, and each edited one is named, not silently ignored.
    const edited = join(dir, 'jsonl-edited.json');
    writeFileSync(edited, JSON.stringify({ ...JSON.parse(readFileSync(config('jsonl'), 'utf8')), seed: 7, trialTimeoutSeconds: 600, backend: 'wasm' }));
    const rerun = collect(run([edited, '--db', db]));
    assert.equal(await rerun.exit, 0, rerun.err());
    const ignored = /ignored edits to: ([^(]+)/.exec(rerun.err())?.[1] ?? '';
    assert.match(rerun.err(), /\(rename the study to start afresh, or `npx renorm-tune extend` its budget\)/);
    assert.deepEqual(ignored.split(',').map((k) => k.trim()).filter(Boolean).sort(), ['backend', 'seed', 'trialTimeoutSeconds'], rerun.err());

    const warm = collect(run([config('warmed'), '--db', db, '--json', '--warm-start-from', 'jsonl']));
    assert.equal(await warm.exit, 0, warm.err());
    const final = JSON.parse(warm.out().trim().split('\n').at(-1)!);
    assert.equal(final.counts.COMPLETE, 4, 'the warm start spent no budget');
    const storage = new SqliteStorage(db);
    try {
      const trials = await storage.listTrials((await storage.findStudyByName('warmed'))!.id);
      const copies = trials.filter((t) => t.role === 'warm-start');
      // The source's two baselines have points in the space too: all four finished trials are copied.
      assert.equal(copies.length, 4);
      assert.ok(copies.every((t) => t.state === 'COMPLETE' && (t.metrics as { warmStart: { study: string } }).warmStart.study === 'jsonl'));
    } finally {
      await storage.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('run --unless-stopped leaves a study stopped with `stop` stopped (exit 130, no trial trained) until `resume`; plain run resumes it', async () => {
  const { dir, db, config } = setup();
  const cliSync = (...args: string[]) => spawnSync(process.execPath, [main, ...args, '--db', db], { encoding: 'utf8' });
  const counts = async () => {
    const storage = new SqliteStorage(db);
    try {
      const study = (await storage.listStudies()).find((s) => s.name === 'held')!;
      return { state: study.state, trials: (await storage.listTrials(study.id)).filter((t) => t.state === 'COMPLETE').length };
    } finally {
      await storage.close();
    }
  };
  try {
    assert.equal(cliSync('create', config('held')).status, 0);
    const stop = cliSync('stop', 'held');
    assert.equal(stop.status, 0, stop.stderr);
    assert.match(stop.stdout, /a run started with --unless-stopped, as the systemd unit's, leaves it stopped until `npx renorm-tune resume held`/);
    const held = collect(run([config('held'), '--db', db, '--unless-stopped', '--json']));
    assert.equal(await held.exit, 130, held.err());
    assert.match(held.err(), /'held' was stopped on request at \d{4}-\d\d-\d\dT[\d:.]+Z: left stopped \(--unless-stopped\); `npx renorm-tune resume held` lets it run again/);
    assert.match(held.err(), /resume: npx renorm-tune resume held --db \S+, then start this run again/);
    const summary = JSON.parse(held.out().trim().split('\n').at(-1)!) as { event: string; state: string };
    assert.deepEqual([summary.event, summary.state], ['summary', 'STOPPED']);
    assert.deepEqual(await counts(), { state: 'STOPPED', trials: 0 }, 'nothing trained');

    const resume = cliSync('resume', 'held');
    assert.equal(resume.status, 0, resume.stderr);
    assert.match(resume.stdout, /study held is STOPPED; `npx renorm-tune run <its config>` resumes it \(under systemd, `systemctl start` its unit\)/);
    const resumed = collect(run([config('held'), '--db', db, '--unless-stopped']));
    assert.equal(await resumed.exit, 0, resumed.err());
    assert.deepEqual(await counts(), { state: 'COMPLETE', trials: 4 });

    // Without the flag a run is a request to resume: it trains (and spends the stop request).
    assert.equal(cliSync('extend', 'held', '--trials', '+1').status, 0);
    assert.equal(cliSync('stop', 'held').status, 0);
    const plain = collect(run([config('held'), '--db', db]));
    assert.equal(await plain.exit, 0, plain.err());
    assert.deepEqual(await counts(), { state: 'COMPLETE', trials: 5 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('run: the evidence line describes this study\'s evidence phase: a race only with finalValidation.seeds 0, nothing without a race either', async () => {
  const { dir, db } = setup();
  try {
    const study = (name: string, finalValidation: unknown) => {
      const p = join(dir, `${name}.json`);
      writeFileSync(p, JSON.stringify({ name, scenario: { steps: 20, evalInterval: 5 }, budget: { trials: 5 }, workers: 1, optimizer: 'random', finalValidation }));
      return p;
    };
    const raced = collect(run([study('race-only', { seeds: 0, race: { candidates: 2, seeds: 1 } }), '--db', db]));
    assert.equal(await raced.exit, 0, raced.err());
    assert.match(raced.err(), /\[study\] evidence: racing the top 2 tuned schedules on 1 fresh validation seed each \(no final runs: finalValidation\.seeds is 0\)\n/);
    assert.doesNotMatch(raced.err(), /retraining/, 'it said "then retraining the winner and both baselines", then "final validation: not run"');
    const none = collect(run([study('no-evidence', { seeds: 0, race: { candidates: 1 } }), '--db', db]));
    assert.equal(await none.exit, 0, none.err());
    assert.doesNotMatch(none.err(), /evidence/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('run: a study in which every trial failed exits 78 (a restart would only say the same), names the first failure and the fix, and races nothing (it exited 0 after "racing the top 3")', async () => {
  const { dir, db } = setup();
  try {
    const p = join(dir, 'broken.json');
    writeFileSync(p, JSON.stringify({ name: 'broken', scenario: { steps: 20, evalInterval: 5 }, budget: { trials: 4 }, workers: 1, optimizer: 'random', finalValidation: { seeds: 2, race: { candidates: 3, seeds: 1 } } }));
    const throws = fileURLToPath(new URL('../fixtures/workers/throws.js', import.meta.url));
    const broken = collect(run([p, '--db', db], throws));
    assert.equal(await broken.exit, 78, broken.err());
    assert.match(broken.err(), /\[study\] evidence: nothing to race or retrain \(no tuned trial completed\)\n/);
    assert.match(broken.out(), /^no trial completed \(4 of 4 failed, e\.g\. #0: trial threw: fixture trainer exploded\); fix the cause, then start afresh: npx renorm-tune delete broken --db \S+, and run again$/m);
    assert.doesNotMatch(broken.out(), /final validation: not run/, 'it blamed finalValidation.seeds = 0');
    const again = collect(run([p, '--db', db]));
    assert.equal(await again.exit, 78, 'a re-run of the finished study says the same');
    assert.match(again.out(), /^no trial completed/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('run: a database file deleted under the run ends it with exit 78 (run again, it would start anew in an empty file), naming the copy of the results', async () => {
  const { dir, db, config } = setup();
  try {
    const counting = fileURLToPath(new URL('../fixtures/workers/counting_trainer.js', import.meta.url));
    const child = spawn(process.execPath, [main, 'run', config('file-gone'), '--db', db, '--trial-worker', counting], {
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RENORM_TEST_TRAIN_LOG: join(dir, 'train.log'), RENORM_TEST_STEP_MS: '100' },
    });
    const r = collect(child);
    for (let i = 0; i < 300 && !existsSync(join(dir, 'train.log')); i++) await new Promise((w) => setTimeout(w, 50));
    assert.ok(existsSync(join(dir, 'train.log')), `no trial started: ${r.err()}`);
    rmSync(db);
    assert.equal(await r.exit, 78, r.err());
    assert.match(r.err(), /run\.db was deleted while this process had it open, so nothing more is written to it \(fix: every result written until now is saved in .*\.recovered-.*\.db; move it to/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('run --port: /api/health reports the package version while the dashboard is served', async () => {
  const { dir, db, config } = setup();
  const child = run([config('served'), '--db', db, '--port', '0', '--no-dashboard']);
  const io = collect(child);
  try {
    let url: string | undefined;
    for (let i = 0; i < 600 && !url; i++) {
      url = /still serving (http:\/\/\S+)/.exec(io.err())?.[1];
      if (!url) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(url, `no "still serving" line: ${io.err()}`);
    const health = await (await fetch(`${url}/api/health`)).json() as { ok: boolean; version: string | null };
    assert.deepEqual(health, { ok: true, version: PACKAGE_VERSION });
    assert.equal(((await (await fetch(`${url}/api/studies/served`)).json()) as { state: string }).state, 'COMPLETE');
  } finally {
    child.kill('SIGINT');
    await io.exit;
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--workers: an integer in [1, 256]; above twice the cores it warns, and the default is the config\'s (the cores)', () => {
  assert.equal(workersOption(undefined), undefined);
  assert.equal(workersOption('3', 2), 3);
  for (const bad of ['0', '999', '1.5', 'four', '-2', '0x10', '', ' ']) assert.throws(() => workersOption(bad, 2), (e: unknown) => e instanceof ConfigError && e.field === '--workers', bad);
  assert.equal(workersWarning(4, 2), undefined);
  assert.match(workersWarning(5, 2)!, /5 workers is more than twice this machine's 2 cores.*--workers 2/);
});

test('run: a flag that needs a companion is refused alone (it was ignored), and --port names what it got', () => {
  const field = (f: string, re: RegExp) => (e: unknown) => e instanceof ConfigError && e.field === f && re.test(e.message);
  assert.throws(() => companionFlags({ queueDepth: '5' }), field('--queue-depth', /with --redis/));
  assert.throws(() => companionFlags({ redisPrefix: 'x' }), field('--redis-prefix', /with --redis/));
  assert.throws(() => companionFlags({ allowedHosts: 'a.example' }), field('--allowed-hosts', /with --port/));
  companionFlags({ redis: 'redis://x', queueDepth: '5', redisPrefix: 'x', port: '0', allowedHosts: 'a.example' });
});

test('run --port abc exits 78 naming what it got, before anything is written', async () => {
  const { dir, db, config } = setup();
  try {
    const r = collect(run([config('port'), '--db', db, '--port', 'abc']));
    assert.equal(await r.exit, 78);
    assert.match(r.err(), /--port: must be an integer in \[0, 65535\], got "abc"/);
    assert.equal(existsSync(db), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('run: what cannot work on a second try exits 78 (a supervisor stops restarting), naming the flag or field and the fix: a mistyped flag, a --db that is no database or in no folder, a validationSize the dataset cannot give', async () => {
  const { dir, db, config } = setup();
  try {
    const refused = async (args: string[], said: RegExp) => {
      const r = collect(run(args));
      assert.equal(await r.exit, 78, `${args.join(' ')}: ${r.err()}`);
      assert.match(r.err(), said);
    };
    // Commander's own refusals ended with exit 1, which systemd's RestartPreventExitStatus=78 restarts forever.
    await refused([config('typo'), '--db', db, '--wokers', '2'], /unknown option '--wokers'\s+\(Did you mean --workers\?\)/);
    await refused([config('extra'), 'more', '--db', db], /too many arguments/);
    await refused([config('folder'), '--db', dir], /is a folder, not a database file \(fix: give a file name/);
    const junk = join(dir, 'notes.db');
    writeFileSync(junk, 'not a database at all, but longer than a hundred bytes so that SQLite reads a header from it and finds none..');
    await refused([config('junk'), '--db', junk], /is not a SQLite database \(no SQLite header\), left as it was \(fix: point --db at a renorm-tune database/);
    assert.match(readFileSync(junk, 'utf8'), /^not a database at all/, 'left as it was');
    await refused([config('nowhere'), '--db', join(dir, 'missing', 'x.db')], /its folder .*missing does not exist \(fix: create the folder/);
    const big = join(dir, 'big.json');
    writeFileSync(big, JSON.stringify({ name: 'big', scenario: { steps: 20, validationSize: 70_000 }, budget: { trials: 4 } }));
    // It created the study and failed every trial of the budget on the split.
    await refused([big, '--db', db], /scenario\.validationSize: 70000 leaves no training images: mnist has 60000 .*\(fix: give at most 59999/);
    assert.equal(existsSync(db), false, 'no database was created');
    // Refused once the database is open: the file this run created is removed again, empty as it was.
    await refused([config('warm'), '--db', db, '--warm-start-from', 'nope'], /warmStartFrom: there is no study 'nope'/);
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('run.db')), [], 'no database file (or -wal, -shm) left behind');
    const taken = createServer().listen(0, '127.0.0.1');
    await once(taken, 'listening');
    try {
      const r = collect(run([config('port-taken'), '--db', db, '--port', String((taken.address() as AddressInfo).port)]));
      assert.equal(await r.exit, 1, r.err());
      assert.match(r.err(), /in use/);
    } finally {
      taken.close();
    }
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('run.db')), [], 'a port in use leaves none either');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('run: a dataset that cannot be read is named, and no database is left behind', async () => {
  const { dir, db } = setup();
  try {
    const cfg = join(dir, 'idx.json');
    const missing = join(dir, 'train-images-idx3-ubyte');
    writeFileSync(cfg, JSON.stringify({ name: 'idx', scenario: { steps: 20, dataset: { type: 'idx', trainImages: missing, trainLabels: missing, testImages: missing, testLabels: missing } }, budget: { trials: 4 } }));
    const r = collect(run([cfg, '--db', db]));
    assert.equal(await r.exit, 78);
    assert.match(r.err(), new RegExp(`${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot read IDX file`), r.err());
    assert.equal(existsSync(db), false, 'no database was created');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--isolation and --devices: process where native TF.js may load, one process per device, refused with --redis or a thread pool on native', () => {
  assert.deepEqual(localExecutorFlags({}, 'wasm'), {}, 'the runner picks: threads for wasm');
  assert.deepEqual(localExecutorFlags({ devices: '0, 1' }, undefined), { isolation: 'process', devices: ['0', '1'] });
  assert.deepEqual(localExecutorFlags({ isolation: 'process' }, 'wasm'), { isolation: 'process' });
  const field = (f: string) => (e: unknown) => e instanceof ConfigError && e.field === f;
  assert.throws(() => localExecutorFlags({ isolation: 'fork' }, 'wasm'), field('--isolation'));
  assert.throws(() => localExecutorFlags({ isolation: 'thread' }, 'node-gpu'), (e: unknown) => field('--isolation')(e) && /tensorflow\/tfjs#2079/.test((e as Error).message));
  assert.throws(() => localExecutorFlags({ isolation: 'thread', devices: '0' }, 'wasm'), field('--devices'));
  assert.throws(() => localExecutorFlags({ redis: 'redis://x', devices: '0' }, 'wasm'), (e: unknown) => field('--devices')(e) && /`npx renorm-tune worker`/.test(String((e as ConfigError).fix ?? (e as Error).message)));
});

test('run: a study on a native backend this machine lacks is refused before anything is written (it failed every trial and exited 0)', { skip: nativeInstalled && '@tensorflow/tfjs-node is installed here' }, async () => {
  const { dir, db } = setup();
  try {
    const cfg = join(dir, 'native.json');
    writeFileSync(cfg, JSON.stringify({ name: 'native', backend: 'node', scenario: { steps: 20 }, budget: { trials: 4 } }));
    const r = collect(run([cfg, '--db', db]));
    assert.notEqual(await r.exit, 0);
    assert.match(r.err(), /backend node: @tensorflow\/tfjs-node is not installed on this machine \(fix: npm install @tensorflow\/tfjs-node@4\.22\.0 where renorm-tune is installed \(npm install -g beside a global install\), or set "backend": "wasm" in the study config\)/, r.err());
    assert.equal(existsSync(db), false, 'no database was created');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// tfjs-node-gpu in these two is a fake that finds no GPU, as the real one where CUDA 11.2 or cuDNN 8.1 is missing.
const gpuStudy = { name: 'gpu', backend: 'node-gpu', scenario: { model: { type: 'mlp' }, steps: 10, validationSize: 100, evalSize: 50, evalInterval: 5 }, budget: { trials: 3 }, finalValidation: { seeds: 0, race: { candidates: 1 } } };

test('run: a study on node-gpu whose TensorFlow finds no GPU is refused with exit 78 before anything is written, naming each device', { skip: gpuBackendPresent }, async () => {
  const { dir, db } = setup();
  try {
    const cfg = join(dir, 'gpu.json');
    writeFileSync(cfg, JSON.stringify(gpuStudy));
    const r = collect(spawn(process.execPath, [main, 'run', cfg, '--db', db, '--devices', '2'], { stdio: ['ignore', 'pipe', 'pipe'], env: fakeGpuEnv(false) }));
    assert.equal(await r.exit, 78, r.err());
    assert.match(r.err(), /error: device 2: backend 'node-gpu': @tensorflow\/tfjs-node-gpu loaded, but TensorFlow found no GPU and would train on the CPU: CUDA_VISIBLE_DEVICES is '2'/);
    assert.equal(existsSync(db), false, 'no database was created');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('run: a stored study on node-gpu resumed from a config naming another backend, on a machine whose TensorFlow finds no GPU: its first trial is handed back (WAITING, not FAILED), exit 78', { skip: gpuBackendPresent }, async () => {
  // The stored settings win over the file's (the run says it ignores the edit), so the start-up check, which reads the
  // file, passes; the trial's own start then refuses, and the run stops as it would for any machine that cannot train.
  const { dir, db } = setup();
  try {
    const stored = join(dir, 'gpu.json');
    writeFileSync(stored, JSON.stringify(gpuStudy));
    const created = spawnSync(process.execPath, [main, 'create', stored, '--db', db], { encoding: 'utf8' });
    assert.equal(created.status, 0, created.stderr);
    const edited = join(dir, 'gpu-wasm.json');
    writeFileSync(edited, JSON.stringify({ ...gpuStudy, backend: 'wasm' }));
    const r = collect(spawn(process.execPath, [main, 'run', edited, '--db', db], { stdio: ['ignore', 'pipe', 'pipe'], env: fakeGpuEnv(false) }));
    assert.equal(await r.exit, 78, r.err());
    assert.match(r.err(), /ignored edits to: backend/);
    // Trials start two at a time (one per core): either one may be the first to meet it.
    assert.match(r.err(), /error: this machine cannot train trial #[01] of 'gpu': backend 'node-gpu': @tensorflow\/tfjs-node-gpu loaded, but TensorFlow found no GPU/);
    const storage = new SqliteStorage(db);
    try {
      const study = (await storage.findStudyByName('gpu'))!;
      assert.equal(study.state, 'STOPPED');
      const trials = await storage.listTrials(study.id);
      assert.deepEqual(trials.filter((t) => t.state !== 'WAITING').map((t) => `#${t.number} ${t.state}`), [], 'nothing failed or left running');
    } finally {
      await storage.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('run --isolation thread on a native backend: the fix names what run has (--isolation process, the config\'s "backend"), never a --backend flag', async () => {
  const { dir, db } = setup();
  try {
    const cfg = join(dir, 'gpu.json');
    writeFileSync(cfg, JSON.stringify({ name: 'gpu', backend: 'node-gpu', scenario: { steps: 20 }, budget: { trials: 4 } }));
    const r = collect(run([cfg, '--db', db, '--isolation', 'thread']));
    assert.equal(await r.exit, 78);
    assert.match(r.err(), /--isolation: thread cannot train on the native backend .*\(fix: use --isolation process .*, or set "backend": "wasm" in the study config\)/, r.err());
    assert.doesNotMatch(r.err(), /--backend/, 'run has no --backend option');
    assert.equal(existsSync(db), false, 'no database was created');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('run --devices a,b exits 78 naming the option and the fix, before anything is created (it ran the whole study)', async () => {
  const { dir, db, config } = setup();
  try {
    const r = collect(run([config('devices-typo'), '--db', db, '--devices', 'a,b']));
    assert.equal(await r.exit, 78, r.err());
    assert.match(r.err(), /error: --devices: must be a comma-separated list of GPU indices .*got "a,b".*\(fix: .*e\.g\. --devices 0,1/);
    assert.equal(r.out(), '');
    assert.equal(existsSync(db), false, 'no database was created');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('run --devices trains each trial in a child process per device (a probe trainer reports where it ran)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'renorm-run-devices-'));
  try {
    const cfg = join(dir, 'study.json');
    writeFileSync(cfg, JSON.stringify({ name: 'devices', scenario: { steps: 10 }, budget: { trials: 4 }, optimizer: { type: 'random' }, finalValidation: { seeds: 0, race: { candidates: 1 } } }));
    const db = join(dir, 'study.db');
    const child = spawn(process.execPath, [main, 'run', cfg, '--db', db, '--devices', '0,1', '--trial-worker', fileURLToPath(new URL('../fixtures/workers/env_probe.js', import.meta.url))], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    assert.equal(code, 0, out);
    const storage = new SqliteStorage(db);
    try {
      const study = (await storage.findStudyByName('devices'))!;
      const ran = (await storage.listTrials(study.id)).map((t) => t.metrics as { pid: number; visibleDevices: string });
      assert.equal(ran.length, 4);
      assert.deepEqual(new Set(ran.map((m) => m.visibleDevices)), new Set(['0', '1']));
      assert.ok(ran.every((m) => m.pid !== child.pid), 'never in the run process itself');
    } finally {
      await storage.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the closing best line names a baseline when one holds the best value (it read as the tuned schedule next to the final table\'s best (#2))', () => {
  const trials = [{ id: 11, number: 0, role: 'baseline:batchnorm' }, { id: 12, number: 1, role: 'baseline:paper' }, { id: 13, number: 2, role: 'search' }];
  const view = (best: { trialId: number; number: number; value: number }) =>
    ({ best, trials, metric: 'valAccuracy', baselines: { batchnorm: 0.895, paper: 0.898 } }) as unknown as Parameters<typeof bestLine>[0];
  assert.equal(bestLine(view({ trialId: 12, number: 1, value: 0.898 })), 'best valAccuracy: 0.8980 (trial #1, paper (Ioffe 2017)) | batchnorm 0.8950 | paper 0.8980');
  assert.equal(bestLine(view({ trialId: 13, number: 2, value: 0.91 })), 'best valAccuracy: 0.9100 (trial #2) | batchnorm 0.8950 | paper 0.8980');
});

test('a rerun does not call a budget raised by `extend` an ignored edit of the file; a file asking for more, or another limit, is one', () => {
  assert.equal(extendedFrom({ trials: 12 }, { trials: 10 }), true, 'extended from 10 to 12');
  assert.equal(extendedFrom({ trials: 10 }, { trials: 10 }), true);
  assert.equal(extendedFrom({ trials: 10, timeMinutes: 5 }, { trials: 8, timeMinutes: 5 }), true);
  assert.equal(extendedFrom({ trials: 10 }, { trials: 12 }), false, 'the file asks for more than the study has: extend it');
  assert.equal(extendedFrom({ trials: 10 }, { trials: 10, timeMinutes: 5 }), false, 'a limit the study was created without');
  assert.equal(extendedFrom({ trials: 10, timeMinutes: 5 }, { trials: 10 }), false);
});
