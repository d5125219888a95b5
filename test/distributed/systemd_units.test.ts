// The systemd units shipped in configs/systemd: systemd itself accepts them, their "do not restart" status is the
// one the CLI exits with when it cannot run as set up, and their command lines, expanded from the shipped env file
// as systemd expands them, run: refused with that status where this machine lacks what the example names (a GPU
// backend, certificate files), serving once given what it needs, stopped and reloaded the way the units do it; a
// study's coordinator stopped by the unit's signal, left stopped after `renorm-tune stop` until `resume`, resumed to
// the end, and started once more only reporting.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT_NO_RETRY } from '../../src/cli/exit_status.js';
import { openStorage } from '../../src/study/storage/index.js';
import { httpsGet, makeCert, opensslMissing } from '../fixtures/certs.js';
import { cli, countingTrainer, deletePrefix, exitOf, procOf, REDIS_URL, redisSkip, until } from './helpers.js';

const UNITS = fileURLToPath(new URL('../../../configs/systemd/', import.meta.url));
const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const INSTALLED = '/usr/local/bin/renorm-tune';
const analyzeMissing = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' }).status === 0
  ? false : 'systemd-analyze is not installed (Debian: systemd)';
const redisDown = await redisSkip();
const dir = mkdtempSync(join(tmpdir(), 'renorm-systemd-'));
const prefix = `rt-test-systemd-${process.pid}`;
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (!redisDown) for (const p of [prefix, `${prefix}-study`]) await deletePrefix(p);
});

/** A unit file's `[Service]` settings (the last of each key). */
function serviceSettings(unit: string): Record<string, string> {
  const out: Record<string, string> = {};
  let section = '';
  for (const line of readFileSync(join(UNITS, unit), 'utf8').split('\n')) {
    const head = /^\[(\w+)\]$/.exec(line.trim());
    if (head) section = head[1]!;
    else if (section === 'Service' && /^\w+=/.test(line)) out[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
  }
  return out;
}

/** The shipped env file's variables. */
function envFile(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(join(UNITS, 'renorm-tune.env'), 'utf8').split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/**
 * A command line as systemd expands it: `%i` is the instance name, `${VAR}` one word, `$VAR` alone split at
 * whitespace (no word when empty).
 */
function expand(line: string, env: Record<string, string>, instance = ''): string[] {
  return line.replaceAll('%i', instance).split(/\s+/).filter(Boolean).flatMap((word) => {
    const split = /^\$([A-Z_][A-Z0-9_]*)$/.exec(word);
    if (split) return (env[split[1]!] ?? '').split(/\s+/).filter(Boolean);
    return [word.replace(/\$\{([A-Z_][A-Z0-9_]*)\}/g, (_, v: string) => env[v] ?? '')];
  });
}

/** The unit's ExecStart, expanded, with the installed CLI replaced by this build's; in its own process group. */
function start(unit: string, env: Record<string, string>, instance = '', paths: (arg: string) => string = (a) => a) {
  const [bin, ...args] = expand(serviceSettings(unit).ExecStart!, env, instance).map(paths);
  assert.equal(bin, INSTALLED);
  return procOf(spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, detached: true }));
}

/** The status of GET /api/health on an HTTPS server trusting only `ca`, and the common name of the certificate it presented. */
async function served(url: string, ca: string): Promise<[number, string]> {
  const answer = await httpsGet(url, '/api/health', ca);
  return [answer.status, answer.servedCn];
}

describe('configs/systemd', () => {
  it('systemd-analyze verify accepts both units (with the CLI at its installed path)', { skip: analyzeMissing }, () => {
    const shim = join(dir, 'renorm-tune');
    writeFileSync(shim, `#!/bin/sh\nexec ${process.execPath} ${MAIN} "$@"\n`);
    chmodSync(shim, 0o755);
    for (const [unit, as] of [['renorm-tune-worker.service'], ['renorm-tune-serve.service'], ['renorm-tune-study@.service', 'renorm-tune-study@quick.service']]) {
      const copy = join(dir, as ?? unit!);
      writeFileSync(copy, readFileSync(join(UNITS, unit!), 'utf8').replaceAll(INSTALLED, shim));
      const r = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 0, `${unit}: ${r.stderr}`);
      assert.equal(r.stderr.trim(), '', `${unit}: systemd warned`);
    }
  });

  it('each leaves a process stopped on the CLI\'s set-up status (a study also once stopped), stops it with SIGTERM, and restarts any other failure', () => {
    for (const unit of ['renorm-tune-worker.service', 'renorm-tune-serve.service', 'renorm-tune-study@.service']) {
      const s = serviceSettings(unit);
      assert.equal(s.RestartPreventExitStatus, unit.startsWith('renorm-tune-study') ? `${EXIT_NO_RETRY} 130` : String(EXIT_NO_RETRY), unit);
      assert.equal(s.Restart, 'on-failure', unit);
      assert.equal(s.KillSignal, 'SIGTERM', unit);
      assert.equal(s.EnvironmentFile, '/etc/renorm-tune/renorm-tune.env', unit);
    }
    // The worker's trial processes are its own to stop: SIGTERM reaches the worker alone.
    assert.equal(serviceSettings('renorm-tune-worker.service').KillMode, 'mixed');
    // A stopped study (exit 130) is a success, not a failure to restart.
    assert.equal(serviceSettings('renorm-tune-study@.service').SuccessExitStatus, '130');
    assert.equal(serviceSettings('renorm-tune-serve.service').ExecReload, '/bin/kill -HUP $MAINPID');
  });

  it('the worker as shipped, on a machine without tfjs-node-gpu: exit 78 naming the backend; with this machine\'s backend it serves, and leaves on SIGTERM with exit 0', { skip: redisDown }, async () => {
    const db = join(dir, 'worker.db');
    await (await openStorage(db)).close();
    const env: Record<string, string> = { ...envFile(), RENORM_TUNE_DB: db, RENORM_TUNE_REDIS: REDIS_URL, RENORM_TUNE_REDIS_PREFIX: prefix };
    let gpu = false;
    try {
      await import('@tensorflow/tfjs-node-gpu' as string);
      gpu = true;
    } catch {
      // the usual case here: no GPU package
    }
    if (!gpu) {
      const refused = await exitOf(start('renorm-tune-worker.service', env), 30_000);
      assert.equal(refused.code, EXIT_NO_RETRY, refused.out);
      assert.match(refused.out, /error: .*node-gpu/);
    }
    const w = start('renorm-tune-worker.service', { ...env, RENORM_TUNE_WORKER_ARGS: '--metrics-port 0' });
    try {
      const url = await until('its metrics endpoint', () => / at (http:\/\/[^\s/]+)\/metrics/.exec(w.out())?.[1], 30_000);
      assert.equal((await fetch(`${url}/health`)).status, 200);
    } finally {
      // It waits for work for good (--idle-exit 0): stopped here whatever happened above.
      process.kill(w.child.pid!, 'SIGTERM');
    }
    const left = await exitOf(w, 30_000);
    assert.equal(left.code, 0, left.out);
    assert.match(left.out, /leaving \(stopped by a signal\)/);
  });

  it('serve as shipped, without its certificate files: exit 78 naming the flag; with them and a token it serves HTTPS, and the unit\'s reload serves a renewed certificate', { skip: opensslMissing }, async () => {
    const env: Record<string, string> = { ...envFile(), RENORM_TUNE_DB: join(dir, 'serve.db'), RENORM_TUNE_TOKEN: 'systemd-test-token-0123456789' };
    const refused = await exitOf(start('renorm-tune-serve.service', env), 30_000);
    assert.equal(refused.code, EXIT_NO_RETRY, refused.out);
    assert.match(refused.out, /error: --tls-cert: cannot read \/etc\/renorm-tune\/tls\/cert\.pem/);

    const a = makeCert(dir, 'alpha');
    const b = makeCert(dir, 'beta');
    const live = { cert: join(dir, 'live.cert.pem'), key: join(dir, 'live.key.pem') };
    writeFileSync(live.cert, readFileSync(a.cert));
    writeFileSync(live.key, readFileSync(a.key));
    const args = env.RENORM_TUNE_SERVE_ARGS!.replace('/etc/renorm-tune/tls/cert.pem', live.cert).replace('/etc/renorm-tune/tls/key.pem', live.key).replace('0.0.0.0', '127.0.0.1');
    // The env file's Redis (queue-host) is no host here: serve starts all the same, saying so.
    const s = start('renorm-tune-serve.service', { ...env, RENORM_TUNE_SERVE_ARGS: `${args} --port 0` });
    try {
      const url = await until('serve listening', () => / at (https:\/\/[^\s;]+)/.exec(s.out())?.[1], 30_000);
      assert.deepEqual(await served(url, a.cert), [200, 'alpha']);
      assert.match(s.out(), /warning: --redis: cannot reach Redis at redis:\/\/queue-host:6379 .*the dashboard's queue panel says so until it is reachable/);
      const queue = await httpsGet(url, '/api/queue', a.cert, { authorization: `Bearer ${env.RENORM_TUNE_TOKEN}` });
      assert.equal(queue.status, 503, queue.body);
      assert.match(JSON.parse(queue.body).error.message, /^the queue's Redis at redis:\/\/queue-host:6379 is unreachable/);
      writeFileSync(live.cert, readFileSync(b.cert));
      writeFileSync(live.key, readFileSync(b.key));
      const [kill, ...reload] = expand(serviceSettings('renorm-tune-serve.service').ExecReload!, { MAINPID: String(s.child.pid) });
      assert.equal(spawnSync(kill!, reload).status, 0);
      await until('the certificate reloaded', () => /reloaded the TLS certificate \(CN=beta/.test(s.out()), 10_000);
      assert.deepEqual(await served(url, b.cert), [200, 'beta']);
    } finally {
      process.kill(s.child.pid!, 'SIGTERM');
      assert.equal((await exitOf(s, 30_000)).code, 0, s.out());
    }
  });

  it('a study as shipped: SIGTERM stops it (exit 130, STOPPED); stopped with `stop`, started again it stays stopped (130) until `resume`; then with a worker it completes (exit 0), and started once more it only reports', { skip: redisDown }, async () => {
    const studies = join(dir, 'studies');
    mkdirSync(studies, { recursive: true });
    writeFileSync(join(studies, 'unit-study.json'), JSON.stringify({ name: 'unit-study', optimizer: { type: 'random' }, scenario: { steps: 200, evalInterval: 20 }, budget: { trials: 4 }, finalValidation: { seeds: 0 } }));
    const db = join(dir, 'study.db');
    const env: Record<string, string> = { ...envFile(), RENORM_TUNE_DB: db, RENORM_TUNE_REDIS: REDIS_URL, RENORM_TUNE_REDIS_PREFIX: `${prefix}-study` };
    const study = () => start('renorm-tune-study@.service', env, 'unit-study', (a) => a.replace('/etc/renorm-tune/studies/', `${studies}/`));
    const state = async () => {
      const storage = await openStorage(db);
      try {
        return (await storage.listStudies()).find((s) => s.name === 'unit-study')?.state;
      } finally {
        await storage.close();
      }
    };
    const first = study();
    await until('the study created', () => existsSync(db) && first.out().includes('no worker'), 30_000).catch((err: unknown) => {
      first.child.kill('SIGKILL');
      throw err;
    });
    process.kill(first.child.pid!, 'SIGTERM');
    const stopped = await exitOf(first, 30_000);
    assert.equal(stopped.code, 130, stopped.out);
    assert.equal(await state(), 'STOPPED');

    // Stopped with `renorm-tune stop` (here on a study the signal stopped already), the unit started again (a
    // reboot) leaves it stopped, at once, until `renorm-tune resume`; stopped by a signal alone, it resumes (below).
    assert.equal((await exitOf(cli(['stop', 'unit-study', '--db', db]), 30_000)).code, 0);
    const held = await exitOf(study(), 30_000);
    assert.equal(held.code, 130, held.out);
    assert.match(held.out, /'unit-study' was stopped on request at .*: left stopped \(--unless-stopped\)/);
    assert.equal(await state(), 'STOPPED');
    assert.equal((await exitOf(cli(['resume', 'unit-study', '--db', db]), 30_000)).code, 0);

    const again = study();
    const worker = cli(['worker', '--db', db, '--redis', REDIS_URL, '--redis-prefix', `${prefix}-study`, '--trial-worker', countingTrainer, '--idle-exit', '1'],
      { RENORM_TEST_TRAIN_LOG: join(dir, 'train.log'), RENORM_TEST_STEP_MS: '5' });
    const done = await exitOf(again, 120_000);
    assert.equal(done.code, 0, `${done.out}\nworker:\n${worker.out()}`);
    assert.equal(await state(), 'COMPLETE');
    assert.equal((await exitOf(worker, 30_000)).code, 0);
    const report = await exitOf(study(), 30_000);
    assert.equal(report.code, 0, report.out);
    assert.match(report.out, /'unit-study' is already complete; showing its results/);
  });
});
