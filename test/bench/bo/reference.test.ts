// The outside batch references: batch_reference.py's harness (BoTorch's loop in its dry, Sobol mode: BoTorch is on no
// CI machine; Optuna's GPSampler for real, from .venv), the reader's statistics against a direct computation on the
// committed H200 runs, and its errors on bad files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataError } from '../../../src/errors.js';
import { parseReferenceRuns, referenceReport, referenceRows } from '../../../src/bench/bo/reference.js';
import { pythonModuleVersion, REFERENCE_PYTHON, referenceScriptPath } from '../../../src/bench/python_reference.js';
import { VENV_PYTHON, venvMissing } from '../../python_venv.js';

const fixture = fileURLToPath(new URL('../../../../test/fixtures/bench/botorch_batch_h200.jsonl', import.meta.url));
const cli = fileURLToPath(new URL('../../../src/cli/main.js', import.meta.url));
const torch = pythonModuleVersion(REFERENCE_PYTHON, 'torch', 'python3-torch');
const noTorch = 'missing' in torch ? torch.missing : false;
const noOptunaGp = venvMissing(['torch', 'optuna.samplers._gp'], "Optuna's GPSampler reference would run");

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

test('the committed BoTorch runs: 60 evaluations, the same Sobol design at both batch sizes, no fallback rounds', () => {
  const runs = parseReferenceRuns(readFileSync(fixture, 'utf8'), fixture);
  assert.ok(runs.length >= 90);
  const design: Record<string, number> = { hartmann6: 10, rosenbrock4: 6, rastrigin4: 6, styblinski_tang5: 8, hartmann6_12d: 22 };
  for (const r of runs) {
    assert.equal(r.trace.length, 60);
    assert.equal(r.fallbacks, 0);
    assert.equal(r.library, 'botorch 0.18.1');
    const twin = runs.find((o) => o.fn === r.fn && o.seed === r.seed && o.batch !== r.batch);
    if (twin) assert.deepEqual(r.trace.slice(0, design[r.fn]), twin.trace.slice(0, design[r.fn]), `${r.fn} seed ${r.seed}`);
  }
});

test("the committed runs of Optuna 5's GPSampler: 13 functions x 20 seeds x both batch sizes, 60 evaluations, the 10 start-up trials shared across batch sizes", () => {
  const file = fileURLToPath(new URL('../../../../test/fixtures/bench/optuna_gp_cpu.jsonl', import.meta.url));
  const runs = parseReferenceRuns(readFileSync(file, 'utf8'), file);
  assert.equal(runs.length, 13 * 20 * 2);
  for (const r of runs) {
    assert.equal(r.library, 'optuna 5.0.0');
    assert.equal(r.sampler, 'optuna_gp');
    assert.equal(r.trace.length, 60);
    const twin = runs.find((o) => o.fn === r.fn && o.seed === r.seed && o.batch !== r.batch)!;
    assert.deepEqual(r.trace.slice(0, 10), twin.trace.slice(0, 10), `${r.fn} seed ${r.seed}`);
  }
  const rows = referenceRows(runs, file);
  assert.equal(rows.length, 13);
  assert.ok(rows.every((row) => row.seeds.length === 20));
});

test('referenceRows: medians and the floored ratio match a direct computation over the seeds run at both sizes', () => {
  const runs = parseReferenceRuns(readFileSync(fixture, 'utf8'), fixture);
  const rows = referenceRows(runs, fixture);
  assert.equal(rows.length, 5);
  for (const row of rows) {
    const at = (batch: number) => new Map(runs.filter((r) => r.fn === row.fn && r.batch === batch).map((r) => [r.seed, r.trace[59]!]));
    const one = at(1);
    const four = at(4);
    const seeds = [...one.keys()].filter((s) => four.has(s)).sort((a, b) => a - b);
    assert.deepEqual(row.seeds, seeds);
    const m1 = median(seeds.map((s) => one.get(s)!));
    const m4 = median(seeds.map((s) => four.get(s)!));
    assert.equal(row.one.median, m1);
    assert.equal(row.four.median, m4);
    assert.ok(Math.abs(row.ratio - Math.max(m4, 1e-4) / Math.max(m1, 1e-4)) < 1e-12);
    assert.ok(row.interval && row.interval[0] <= row.ratio * 1.000001 && row.ratio <= row.interval[1] * 1.000001, `${row.fn}: ${row.ratio} outside ${row.interval}`);
    assert.equal(row.standing, row.ratio <= 1.5 ? 'met' : row.interval![0] > 1.5 ? 'missed' : 'unresolved');
  }
  // The deadlines left hartmann6_12d without seed 9 and with seeds 11 and 12 at batch 4 only: those are left out.
  assert.deepEqual(rows.find((r) => r.fn === 'hartmann6_12d')!.seeds, [0, 1, 2, 3, 4, 5, 6, 7, 8, 10]);
  const at30 = referenceRows(runs, fixture, 30);
  assert.ok(at30.every((r) => r.evals === 30 && r.one.median >= rows.find((x) => x.fn === r.fn)!.one.median));
  assert.match(referenceReport(rows).join('\n'), /\| hartmann6 \| 13 \| .* \| (met|missed|unresolved) \|/);
});

const line = (over: Record<string, unknown> = {}) =>
  JSON.stringify({ fn: 'branin', seed: 0, batch: 1, trace: [3, 2, 1], final: 1, seconds: 1, fallbacks: 0, sampler: 'x', botorch: '0', ...over });

test('parseReferenceRuns / referenceRows name the line and field of a bad file', () => {
  const bad = (text: string, pattern: RegExp, evals?: number) =>
    assert.throws(() => referenceRows(parseReferenceRuns(text, 'runs.jsonl'), 'runs.jsonl', evals), (e: unknown) => e instanceof DataError && pattern.test(e.message));
  bad(`${line()}\n{oops\n`, /runs\.jsonl line 2: not JSON/);
  bad(`${line({ trace: undefined })}\n`, /line 1: field 'trace' must be/);
  bad(`${line({ trace: [1, 2] })}\n`, /field 'trace' must be a non-empty, non-increasing list/);
  bad(`${line({ batch: 0 })}\n`, /field 'batch' must be a positive integer/);
  bad(`${line({ seed: -1 })}\n`, /field 'seed'/);
  bad(`${line({ botorch: undefined })}\n`, /line 1: has no library version \(a field 'botorch' or 'optuna'\)/);
  bad(`${line({ botorch: undefined, optuna: 5 })}\n`, /line 1: field 'optuna' must be a version/);
  assert.equal(parseReferenceRuns(`${line({ botorch: undefined, optuna: '5.0.0' })}\n`, 'f')[0]!.library, 'optuna 5.0.0');
  bad('[1]\n', /line 1: not a JSON object/);
  bad('\n\n', /holds no runs/);
  bad(`${line()}\n${line()}\n${line({ batch: 4 })}\n`, /branin seed 0 batch 1 appears twice/);
  bad(`${line()}\n${line({ batch: 4, trace: [3, 2] })}\n`, /runs of 3 and 2 evaluations; pass --evals/);
  bad(`${line()}\n${line({ batch: 4 })}\n`, /--evals 5 is past the shortest run/, 5);
  assert.deepEqual(referenceRows(parseReferenceRuns(`${line()}\n${line({ batch: 4, trace: [3, 2] })}\n`, 'f'), 'f', 2)[0]!.seeds, [0]);
});

test('bench bo-reference: the table from the committed runs; a bad or missing file exits 1 naming it, no stack', () => {
  const ok = spawnSync(process.execPath, [cli, 'bench', 'bo-reference', fixture], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /hartmann6_12d +botorch_qlognei +seeds 10/);
  const dir = mkdtempSync(join(tmpdir(), 'bo-ref-'));
  const bad = join(dir, 'bad.jsonl');
  writeFileSync(bad, `${line()}\nnot json\n`);
  for (const [file, pattern] of [[bad, /bad\.jsonl line 2: not JSON/], [join(dir, 'none.jsonl'), /none\.jsonl: cannot be read \(ENOENT, no such file: check the path\)/]] as const) {
    const r = spawnSync(process.execPath, [cli, 'bench', 'bo-reference', file], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, pattern);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
  }
});

function script(request: unknown, python = REFERENCE_PYTHON) {
  return spawnSync(python, [referenceScriptPath('bo/batch_reference.py'), 'run', JSON.stringify(request)], { encoding: 'utf8', timeout: 120_000 });
}

test('batch_reference.py (dry): every run lands as a line the reader takes, the design shared across batch sizes', { skip: noTorch }, () => {
  const out = join(mkdtempSync(join(tmpdir(), 'bo-ref-')), 'runs.jsonl');
  const r = script({ functions: ['rosenbrock4', 'hartmann6'], seeds: 2, firstSeed: 3, evals: 14, workers: 2, dry: true, out });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').pop()!).finished, 8);
  const runs = parseReferenceRuns(readFileSync(out, 'utf8'), out);
  assert.equal(runs.length, 8);
  for (const run of runs) {
    assert.equal(run.sampler, 'sobol');
    assert.equal(run.trace.length, 14);
    assert.ok([3, 4].includes(run.seed));
  }
  const one = runs.find((x) => x.fn === 'hartmann6' && x.seed === 3 && x.batch === 1)!;
  const four = runs.find((x) => x.fn === 'hartmann6' && x.seed === 3 && x.batch === 4)!;
  assert.deepEqual(one.trace.slice(0, 10), four.trace.slice(0, 10));
  const other = runs.find((x) => x.fn === 'hartmann6' && x.seed === 4 && x.batch === 1)!;
  assert.notDeepEqual(one.trace, other.trace);
  assert.equal(referenceRows(runs, out).length, 2);
});

test('batch_reference.py refuses noisy functions, mixed ones for BoTorch, unknown names and libraries before running anything; a deadline leaves runs out', { skip: noTorch }, () => {
  const out = join(mkdtempSync(join(tmpdir(), 'bo-ref-')), 'runs.jsonl');
  for (const [request, pattern] of [
    [{ functions: ['branin', 'branin_noisy'] }, /'branin_noisy' is noisy; this reference takes only noise-free functions/],
    [{ functions: ['branin', 'branin_noisy'], library: 'optuna', dry: false }, /'branin_noisy' is noisy/],
    [{ functions: ['branin', 'mixed_ackley'] }, /'mixed_ackley' has integer\/categorical parameters; BoTorch's loop here takes only continuous functions \("library": "optuna" takes them\)/],
    [{ functions: ['branin', 'nope'] }, /unknown function 'nope'/],
    [{ functions: ['branin'], library: 'gpytorch' }, /unknown library 'gpytorch'; give "botorch" or "optuna"/],
    [{ functions: ['branin'], library: 'optuna' }, /"dry" stands in for BoTorch only/],
  ] as const) {
    const r = script({ seeds: 1, dry: true, out, ...request });
    assert.notEqual(r.status, 0, JSON.stringify(request));
    assert.match(r.stderr, pattern);
  }
  assert.equal(existsSync(out), false, 'nothing was run');
  const late = script({ functions: ['branin'], seeds: 3, evals: 10, dry: true, out, stopAfter: 0 });
  assert.equal(late.status, 0, late.stderr);
  assert.deepEqual(JSON.parse(late.stdout.trim()), { finished: 0, left_out: 6, seconds: JSON.parse(late.stdout.trim()).seconds });
});

test("batch_reference.py with Optuna's GPSampler: continuous and mixed functions, the start-up trials shared across batch sizes, lines the reader takes", { skip: noOptunaGp }, () => {
  const out = join(mkdtempSync(join(tmpdir(), 'bo-ref-')), 'runs.jsonl');
  const r = script({ functions: ['branin', 'mixed_ackley'], seeds: 1, firstSeed: 2, evals: 14, workers: 2, library: 'optuna', out }, VENV_PYTHON);
  assert.equal(r.status, 0, r.stderr);
  const runs = parseReferenceRuns(readFileSync(out, 'utf8'), out);
  assert.equal(runs.length, 4);
  for (const run of runs) {
    assert.equal(run.sampler, 'optuna_gp');
    assert.match(run.library, /^optuna [5-9]\./);
    assert.equal(run.seed, 2);
    assert.equal(run.trace.length, 14);
  }
  // Optuna's 10 random start-up trials are the same at both batch sizes (the sampler's seed), its GP's proposals not.
  const [one, four] = [1, 4].map((b) => runs.find((x) => x.fn === 'branin' && x.batch === b)!);
  assert.deepEqual(one!.trace.slice(0, 10), four!.trace.slice(0, 10));
  assert.deepEqual(referenceRows(runs, out).map((row) => row.fn).sort(), ['branin', 'mixed_ackley']);
});
