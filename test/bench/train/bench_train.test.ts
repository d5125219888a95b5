// `bench train` runs end to end and its --json last line carries the documented fields (no timing assertions).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { initBackend } from '../../../src/engine/backend.js';
import { BACKEND_NAMES } from '../../../src/shared/names.js';
import { BackendError } from '../../../src/errors.js';
import { cpuDescription, modelNumbers, vectorExtensions } from '../../../src/bench/cpu_info.js';
import { torchUnavailableReason } from '../../../src/bench/train/torch_reference.js';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src/cli/main.js');

/** The backend `auto` must pick: the first of node-gpu, node, wasm, cpu that initialises when asked for by name. */
async function firstAvailableBackend(): Promise<string> {
  for (const name of BACKEND_NAMES.filter((n) => n !== 'auto')) {
    try {
      return (await initBackend(name)).name;
    } catch (e) {
      if (!(e instanceof BackendError)) throw e;
    }
  }
  throw new Error('not even the cpu backend initialised');
}

test('bench train --profile --json prints a JSON summary (with the kernel profile) as its last line, on the automatic backend', async () => {
  const expected = await firstAvailableBackend();
  const r = spawnSync(process.execPath, [MAIN, 'bench', 'train', '--batch-size', '2', '--steps', '2', '--warmup', '1',
    '--warmup-seconds', '0', '--rounds', '1', '--no-torch', '--cpu-steps', '0', '--profile', '--json'], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  const summary = JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
  assert.equal(summary['batchSize'], 2);
  assert.equal(summary['width'], 16, 'the reference CNN by default');
  assert.equal(summary['params'], 9 * 16 + 2 * 16 + 9 * 16 * 32 + 2 * 32 + 32 * 7 * 7 * 10 + 10, 'two convs, two BRN layers, the dense layer');
  assert.equal(summary['backend'], expected, `auto must take the first available of ${BACKEND_NAMES.slice(1).join(', ')}`);
  if (expected === 'wasm' || expected === 'cpu') assert.equal(summary['device'], 'CPU');
  assert.ok(typeof summary['imagesPerSecond'] === 'number' && summary['imagesPerSecond'] > 0);
  assert.equal(summary['torchImagesPerSecond'], null);
  assert.equal(summary['ratio'], null);
  assert.equal(summary['roundRatios'], null);
  assert.equal(summary['warmup'], 1, 'at least --warmup steps, and no more once --warmup-seconds 0 has passed');
  assert.equal(summary['torchNote'], 'disabled by --no-torch');
  assert.equal(summary['cpu'], cpuDescription(), 'the CPU it ran on, since ratios to native code depend on it');
  const profile = summary['kernelProfile'] as { rows: { kernel: string; callsPerStep: number }[] };
  const names = profile.rows.map((r) => r.kernel);
  // Our fused BRN kernels exist only where the engine registers them (wasm, cpu); native TensorFlow runs generic ops.
  const fused = expected === 'wasm' || expected === 'cpu' ? ['RenormMoments', 'RenormBackward'] : [];
  for (const k of ['Conv2DBackpropFilter', 'MaxPoolGrad', ...fused]) assert.ok(names.includes(k), `${k} in ${names}`);
  assert.equal(profile.rows.find((r) => r.kernel === 'Conv2DBackpropFilter')!.callsPerStep, 2, 'one per conv layer');
});

test('bench train pairs each round of ours with the PyTorch round run right after it, on the same network at another width and input', { skip: torchUnavailableReason() ?? false }, () => {
  const r = spawnSync(process.execPath, [MAIN, 'bench', 'train', '--batch-size', '2', '--steps', '3', '--warmup', '2',
    '--warmup-seconds', '1', '--rounds', '3', '--cpu-steps', '0', '--width', '6', '--input', '12x10x3', '--json'], { encoding: 'utf8', timeout: 180_000 });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  const s = JSON.parse(lines[lines.length - 1]!) as {
    roundsImagesPerSecond: number[]; torchRoundsImagesPerSecond: number[]; roundRatios: number[]; pairedRatio: number;
    warmup: number; warmupSeconds: number; width: number; params: number; input: { height: number; width: number; channels: number };
  };
  // It would have stopped had PyTorch's net another parameter count (src/bench/train/bench_torch.py builds its own).
  assert.equal(s.width, 6);
  assert.deepEqual(s.input, { height: 12, width: 10, channels: 3 });
  // RGB input; each max-pool floors an odd size (10 -> 5 -> 2), as Keras's and torch's do.
  assert.equal(s.params, 9 * 3 * 6 + 2 * 6 + 9 * 6 * 12 + 2 * 12 + 12 * 3 * 2 * 10 + 10);
  assert.equal(s.roundRatios.length, 3);
  s.roundRatios.forEach((q, i) => assert.ok(Math.abs(q - s.roundsImagesPerSecond[i]! / s.torchRoundsImagesPerSecond[i]!) < 1e-12));
  assert.equal(s.pairedRatio, [...s.roundRatios].sort((a, b) => a - b)[1]);
  assert.ok(s.warmupSeconds >= 1 && s.warmup >= 2, `warmed up ${s.warmup} steps over ${s.warmupSeconds} s`);
  assert.match(r.stdout, /paired by round \(each round's two sides ran back to back\): median ratio [\d.]+x, rounds [\d.]+-[\d.]+x/);
});

test('bench train rejects a bad batch size with the option named', () => {
  const bad = spawnSync(process.execPath, [MAIN, 'bench', 'train', '--batch-size', '0'], { encoding: 'utf8', timeout: 60_000 });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /--batch-size: must be a positive integer/);
  const words = spawnSync(process.execPath, [MAIN, 'bench', 'train', '--batch-size', '2', '--cpu-steps', 'abc'], { encoding: 'utf8', timeout: 60_000 });
  assert.notEqual(words.status, 0);
  assert.match(words.stderr, /--cpu-steps: must be an integer >= 0, got 'abc'/, 'what was typed, not NaN');
  const shape = spawnSync(process.execPath, [MAIN, 'bench', 'train', '--batch-size', '2', '--input', '32x32'], { encoding: 'utf8', timeout: 60_000 });
  assert.notEqual(shape.status, 0);
  assert.match(shape.stderr, /--input: must be height x width x channels, .*got "32x32".*e\.g\. --input 32x32x3/s);
  const tiny = spawnSync(process.execPath, [MAIN, 'bench', 'train', '--batch-size', '2', '--input', '3x8x1'], { encoding: 'utf8', timeout: 60_000 });
  assert.notEqual(tiny.status, 0);
  assert.match(tiny.stderr, /--input: the network's two 2x2 max-pools need at least 4x4 pixels, got 3x8x1/);
});

test('the CPU line names the widest vector instructions /proc/cpuinfo lists', () => {
  const info = (flags: string) => `processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: fpu sse2 ${flags}\n\nprocessor\t: 1\n`;
  assert.equal(vectorExtensions(info('avx avx2 avx512f avx512bw')), 'AVX-512');
  assert.equal(vectorExtensions(info('avx avx2 fma')), 'AVX2');
  assert.equal(vectorExtensions(info('avx')), 'AVX');
  assert.equal(vectorExtensions(info('neon')), null);
  assert.equal(vectorExtensions('Processor\t: AArch64\nFeatures\t: fp asimd'), null);
  assert.match(cpuDescription(), /\d+ cores/);
});

test('the CPU line carries x86 family and model numbers, which tell generations apart where the name does not', () => {
  const info = 'processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 17\nmodel name\t: AMD EPYC\nstepping\t: 1\n';
  assert.equal(modelNumbers(info), 'family 25 model 17', 'the model number, not the "model name" line');
  assert.equal(modelNumbers('Processor\t: AArch64\nFeatures\t: fp asimd'), null);
});
