// Validating a study config loads no TF.js and no engine module, observed in a fresh process (the static rule is in imports.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DIST_SRC = path.resolve(HERE, '../../src');
const ROOT = path.resolve(HERE, '../../..');

/** Every module (URL or path) a fresh node process loads to import `entry` and call `fn(arg)`. */
function modulesLoadedBy(entry: string, fn: string, arg: unknown): string[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'load-probe-'));
  try {
    const r = spawnSync(process.execPath, [path.join(HERE, 'fixtures/load_probe.js'), pathToFileURL(entry).href, fn, JSON.stringify(arg)], {
      encoding: 'utf8', timeout: 60_000, env: { ...process.env, RECORD_LOADS: path.join(dir, 'loads.txt') },
    });
    assert.equal(r.status, 0, `probe failed: ${r.stderr}`);
    return (JSON.parse(r.stdout.trim().split('\n').pop()!) as { loaded: string[] }).loaded;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const isTf = (m: string) => m.includes('/@tensorflow/');
const isEngine = (m: string) => m.includes('/dist/src/engine/');

test('validating configs/quick.json loads no @tensorflow package and no src/engine module', () => {
  const config = JSON.parse(readFileSync(path.join(ROOT, 'configs/quick.json'), 'utf8')) as unknown;
  const loaded = modulesLoadedBy(path.join(DIST_SRC, 'study/config.js'), 'validateStudyConfig', config);
  assert.ok(loaded.some((m) => m.endsWith('/dist/src/train/scenario.js')), 'the probe must see the scenario validator load');
  const bad = loaded.filter((m) => isTf(m) || isEngine(m));
  assert.deepEqual(bad, [], 'study-config validation must stay free of TF.js: see which import pulls these in ' +
    '(test/house/imports.test.ts prints the chain) and move what validation needs into a pure module');
});

test('the probe does see TF.js when a module loads it (the engine validating a model spec)', () => {
  const loaded = modulesLoadedBy(path.join(DIST_SRC, 'engine/index.js'), 'validateModelSpec', { type: 'cnn' });
  assert.ok(loaded.some(isTf), 'importing the engine must show @tensorflow modules, or the test above proves nothing');
  assert.ok(loaded.some(isEngine));
});
