// `renorm-tune doctor`: each backend started in a process of its own (node-gpu on each --devices GPU, through the fake
// tfjs-node-gpu of test/fixtures/fake_gpu), the database opened as a worker would, Redis reached; only what a flag
// asked for fails the command.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Check } from '../../src/cli/doctor.js';
import { fakeGpuEnv } from '../fixtures/fake_gpu/index.js';
import { gpuBackendPresent, installed } from '../fixtures/installed.js';
import { REDIS_URL, redisSkip } from '../distributed/helpers.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const CONFIG = fileURLToPath(new URL('../../../configs/quick.json', import.meta.url));
const redisDown = await redisSkip();
const dir = mkdtempSync(join(tmpdir(), 'renorm-doctor-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function doctor(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(process.execPath, [MAIN, 'doctor', '--json', ...args], { encoding: 'utf8', timeout: 240_000, env, cwd: dir });
  let checks: Check[] = [];
  try {
    checks = (JSON.parse(r.stdout) as { checks: Check[] }).checks;
  } catch {
    // The assertion on the status says why.
  }
  return { status: r.status, stderr: r.stderr, byName: Object.fromEntries(checks.map((c) => [c.check, c])) as Record<string, Check> };
}

describe('doctor', { skip: gpuBackendPresent || (installed('@tensorflow/tfjs-node') ? '@tensorflow/tfjs-node is installed here' : false) }, () => {
  it('with no flag: reports every backend (wasm and cpu start, the native ones name their install line) and which auto picks; exit 0', () => {
    const r = doctor([]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.byName.node!.detail, /^renorm-tune \d+\.\d+\.\d+ on Node 2\d\./);
    assert.deepEqual([r.byName['backend wasm']!.ok, r.byName['backend cpu']!.ok], [true, true]);
    assert.equal(r.byName['backend wasm']!.detail, 'starts: wasm on the CPU');
    for (const [b, pkg] of [['node-gpu', 'tfjs-node-gpu'], ['node', 'tfjs-node']]) {
      const c = r.byName[`backend ${b}`]!;
      assert.equal(c.ok, false);
      assert.equal(c.needed, false, 'not asked for: reported, not failed');
      assert.match(c.detail, new RegExp(`npm install @tensorflow/${pkg}@4\\.22\\.0`));
    }
    assert.match(r.byName['backend auto']!.detail, /^would use wasm /);
  });

  it('--backend node-gpu on a machine without it: that check fails the command (exit 1); the rest is still reported', () => {
    const r = doctor(['--backend', 'node-gpu']);
    assert.equal(r.status, 1);
    assert.equal(r.byName['backend node-gpu']!.needed, true);
    assert.equal(r.byName['backend wasm']!.ok, true);
  });

  it('--backend node-gpu --devices 0,1 with a GPU on each: started on both; without one: fails naming the device', () => {
    const found = doctor(['--backend', 'node-gpu', '--devices', '0,1'], fakeGpuEnv(true));
    assert.equal(found.status, 0, found.stderr);
    assert.equal(found.byName['backend node-gpu']!.detail, 'starts: node-gpu on the GPU on devices 0, 1');
    assert.match(found.byName['backend auto']!.detail, /^would use node-gpu /);
    const none = doctor(['--backend', 'node-gpu', '--devices', '0,1'], fakeGpuEnv(false));
    assert.equal(none.status, 1);
    assert.match(none.byName['backend node-gpu']!.detail, /^device 0: backend 'node-gpu': @tensorflow\/tfjs-node-gpu loaded, but TensorFlow found no GPU .*\(refused on device 1 too\)$/);
    // auto, started rather than inferred, keeps that package on the CPU (as a study's trials would), not wasm.
    assert.match(none.byName['backend auto']!.detail, /^would use node-gpu on the CPU /);
  });

  it('--db: opens the database as a worker would, counting its studies; one not yet created fails as not ready, saying a worker would wait', () => {
    const missing = doctor(['--db', join(dir, 'none.db')]);
    assert.equal(missing.status, 1);
    assert.match(missing.byName.database!.detail, /none\.db: no renorm-tune schema yet; a worker started now waits for its coordinator to create it \(`npx renorm-tune run <config> --db <same database> --redis <same Redis>`\)/);
    const db = join(dir, 'one.db');
    const created = spawnSync(process.execPath, [MAIN, 'create', CONFIG, '--db', db], { encoding: 'utf8', cwd: dir });
    assert.equal(created.status, 0, created.stderr);
    const ok = doctor(['--db', db]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.byName.database!.detail, `${db}: reachable, 1 study`);
  });

  it('--redis nobody listens on: fails, named', () => {
    const down = doctor(['--redis', 'redis://127.0.0.1:1']);
    assert.equal(down.status, 1);
    assert.match(down.byName.redis!.detail, /cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
  });

  it('--redis: reached, with the queue\'s coordinators and workers counted', { skip: redisDown }, () => {
    const up = doctor(['--redis', REDIS_URL, '--redis-prefix', `doctor-${process.pid}`]);
    assert.equal(up.status, 0, up.stderr);
    assert.match(up.byName.redis!.detail, new RegExp(`prefix 'doctor-${process.pid}': reachable; 0 coordinator\\(s\\), 0 worker\\(s\\) of this version`));
  });

  it('a bad flag is refused before anything starts (exit 78), naming the flag', () => {
    const r = spawnSync(process.execPath, [MAIN, 'doctor', '--backend', 'gpu'], { encoding: 'utf8' });
    assert.equal(r.status, 78);
    assert.match(r.stderr, /--backend: must be one of .*did you mean 'cpu'/);
    assert.equal(r.stdout, '');
    for (const [args, said] of [[['--redis', 'http://x'], /--redis: unsupported URL scheme 'http:\/\/'/], [['--redis-prefix', 'p'], /--redis-prefix: applies only with --redis/], [['--devices', '0,0'], /--devices/]] as const) {
      const bad = spawnSync(process.execPath, [MAIN, 'doctor', ...args], { encoding: 'utf8' });
      assert.equal(bad.status, 78, args.join(' '));
      assert.match(bad.stderr, said);
      assert.equal(bad.stdout, '');
    }
  });
});
