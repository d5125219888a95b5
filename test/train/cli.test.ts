// `renorm-tune train` end to end on a tiny config: with --json stdout is one JSON document; bad configs exit non-zero naming the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ConfigError, DataError } from '../../src/errors.js';
import { loadTrainConfig, validateTrainConfig } from '../../src/train/index.js';
import { register } from '../../src/cli/train.js';
import { runCli } from '../fixtures/cli.js';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const run = (args: string[]) =>
  promisify(execFile)(process.execPath, [main, 'train', ...args], { encoding: 'utf8' }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

const tinyScenario = { model: { type: 'mlp', hidden: [16] }, batchSize: 4, steps: 12, evalInterval: 6, validationSize: 200, evalSize: 100, trainSubset: 300 };

test('train --json: stdout is exactly one JSON document (the human summary goes to stderr)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'train-cli-'));
  const config = join(dir, 'tiny.json');
  writeFileSync(config, JSON.stringify({ scenario: tinyScenario, seed: 5 }));
  const r = await run([config, '--json', '--schedule', 'batchnorm', '--seed', '2']);
  assert.equal(r.code, 0, r.stderr);
  // All of stdout, as `| jq` reads it: human lines before the object made it unparsable.
  const last = JSON.parse(r.stdout);
  assert.equal(last.status, 'ok');
  assert.equal(last.steps, 12);
  assert.equal(last.seed, 2, '--seed overrides the config');
  assert.deepEqual(last.schedule, { kind: 'batchnorm' });
  assert.equal(typeof last.backend, 'string');
  for (const k of ['valAccuracy', 'valAccuracyTrainMode', 'testAccuracy']) assert.ok(last[k] >= 0 && last[k] <= 1, `${k} = ${last[k]}`);
  assert.ok(last.imagesPerSecond > 0);
  assert.match(r.stderr, /step 12\/12/, 'progress on stderr');
  assert.match(r.stderr, /status: ok\nvalidation accuracy \(inference mode\)/, 'the human summary on stderr');
  assert.deepEqual(readdirSync(dir), ['tiny.json'], 'train writes no files');
});

test('bad configs and arguments exit non-zero with the field and a fix, and print no result', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'train-cli-'));
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ scenario: { ...tinyScenario, batchSize: 0 } }));
  // One process only: each CLI start loads TF.js (seconds of CPU); the other error paths are checked in-process below.
  const r = await run([bad]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /scenario\.batchSize: must be an integer in \[1, 4096\].*fix:/);
  assert.equal(r.stdout, '');
  const missing = join(dir, 'missing.json');
  assert.throws(() => loadTrainConfig(missing), (e: unknown) => e instanceof DataError && e.file === missing && /cannot read config/.test(e.message));
  const broken = join(dir, 'broken.json');
  writeFileSync(broken, '{"scenario": ');
  assert.throws(() => loadTrainConfig(broken), (e: unknown) => e instanceof DataError && /not valid JSON/.test(e.message));
  // A blank --seed was taken as seed 0.
  await assert.rejects(runCli(register, 'train', bad, '--seed', ' '), /--seed: must be an integer in \[0, 2147483647\], got ' '/);
});

test('validateTrainConfig: unknown top-level fields, bad schedule, seed and backend name the field', () => {
  const cases: [unknown, string][] = [
    [{ scenario: {}, epochs: 3 }, 'cfg.json:epochs'],
    [{ scenario: {}, schedule: { kind: 'paper', warmup: 2 } }, 'cfg.json:schedule.warmup'],
    [{ scenario: {}, seed: 1.5 }, 'cfg.json:seed'],
    [{ scenario: {}, backend: 'tpu' }, 'cfg.json:backend'],
    [{ scenario: { steps: -1 } }, 'cfg.json:scenario.steps'],
    [{ schedule: { kind: 'paper' } }, 'cfg.json:scenario'],
  ];
  for (const [raw, field] of cases) {
    assert.throws(() => validateTrainConfig(raw, 'cfg.json'), (e: unknown) => e instanceof ConfigError && e.field === field, field);
  }
  assert.deepEqual(validateTrainConfig({ scenario: {}, seed: 4 }).seed, 4);
});

test('a study config given to train is named as one, with the command that runs it (it said "name: unknown top-level field")', () => {
  const quick = fileURLToPath(new URL('../../../configs/quick.json', import.meta.url));
  assert.throws(() => loadTrainConfig(quick), (e: unknown) => {
    assert.ok(e instanceof ConfigError, String(e));
    assert.equal(e.field, quick);
    assert.match(e.message, /this is a study config \(it has name, .*budget.*\), not a training config/);
    assert.match(e.fix ?? '', /train takes a training config such as configs\/mnist-noniid\.json.*run a study config with `npx renorm-tune run /);
    return true;
  });
  // Without a name, two study-only fields still say so; one stray field (a training optimizer at the top) is just unknown.
  assert.throws(() => validateTrainConfig({ scenario: {}, budget: { trials: 8 }, space: {} }, 'cfg.json'), /study config \(it has budget, space\)/);
  assert.throws(() => validateTrainConfig({ scenario: {}, optimizer: { type: 'adam' } }, 'cfg.json'), (e: unknown) => e instanceof ConfigError && e.field === 'cfg.json:optimizer' && /unknown top-level field/.test(e.message));
});
