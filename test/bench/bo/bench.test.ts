// benchBo end to end on two cheap functions (no Optuna): batch checks carry an interval and a standing, --first-seed runs exactly the later seeds, and ablations compare on seeds from 0.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { ConfigError } from '../../../src/errors.js';
import { VENV_PYTHON, venvMissing } from '../../python_venv.js';
import { benchBo, type BenchBoOptions } from '../../../src/bench/bo/bench.js';
import { benchGp, runOnFunction } from '../../../src/bench/bo/regret.js';
import { BATCH_TARGET, SOLVED } from '../../../src/bench/bo/summary.js';
import { functionByName } from '../../../src/bench/bo/test_functions.js';
import { heldOutFunctions } from '../../../src/bench/bo/held_out_functions.js';

const options = (over: Partial<BenchBoOptions>): BenchBoOptions => ({
  functions: [functionByName('branin')!, functionByName('hartmann3')!],
  seeds: 3, evals: 12, batches: [1, 4], sections: ['regret'], optuna: false, sklearn: false,
  ablationFunctions: [], ablationSeeds: 0, outlierFunctions: [], latencySizes: [], largeN: 0, log: () => {}, ...over,
});

test('bench bo: every batch check has its ratio inside its 90% interval and the standing that ratio and interval imply; --first-seed replays the later seeds; ablation defaults are seeds 0..n-1', async () => {
  const lines: string[] = [];
  const all = await benchBo(options({ log: (l) => lines.push(l) }));
  assert.equal(all.batchCheck.length, 2);
  for (const b of all.batchCheck) {
    assert.ok(b.interval && b.interval[0] <= b.ratio && b.ratio <= b.interval[1], JSON.stringify(b));
    const one = all.regret.find((r) => r.fn === b.fn && r.batch === 1)!;
    const four = all.regret.find((r) => r.fn === b.fn && r.batch === 4)!;
    assert.equal(b.ratio, Math.max(four.gp.median, SOLVED) / Math.max(one.gp.median, SOLVED));
    assert.equal(b.standing, b.ratio <= BATCH_TARGET ? 'met' : b.interval![0] > BATCH_TARGET ? 'missed' : 'unresolved');
  }
  assert.ok(lines.some((l) => /^batch target .* met on \d\/2, missed beyond seed noise on \d, missed within it on \d/.test(l)), lines.join('\n'));
  const later = await benchBo(options({ seeds: 2, firstSeed: 1 }));
  for (const r of later.regret) {
    const full = all.regret.find((x) => x.fn === r.fn && x.batch === r.batch)!;
    assert.deepEqual(r.perSeed.gp, full.perSeed.gp.slice(1), `${r.fn} q=${r.batch}`);
    assert.deepEqual(r.perSeed.random, full.perSeed.random.slice(1));
  }

  // Ablations compare against the default on seeds 0..ablationSeeds-1, whatever seeds the regret runs used: here
  // seed 1 comes from the regret runs (seeds 1-2) and seed 0 is run for the ablation.
  const branin = functionByName('branin')!;
  const withAblation = await benchBo(options({ functions: [branin], seeds: 2, firstSeed: 1, sections: ['regret', 'ablation'], ablationFunctions: [branin], ablationSeeds: 2 }));
  const rows = withAblation.ablation!.rows;
  assert.ok(rows.some((r) => r.batch === 1) && rows.some((r) => r.batch === 4));
  for (const row of rows) {
    const seeds01 = all.regret.find((x) => x.fn === 'branin' && x.batch === row.batch)!.perSeed.gp.slice(0, 2);
    assert.equal(row.defaultMedian, (seeds01[0]! + seeds01[1]!) / 2, `${row.variant} q=${row.batch}`);
  }
});

test('bench bo --batch-method: the regret runs use that strategy; the ablations still compare against the default', async () => {
  const branin = functionByName('branin')!;
  const lines: string[] = [];
  const r = await benchBo(options({
    functions: [branin], seeds: 1, evals: 24, batches: [4], sections: ['regret', 'ablation'], ablationFunctions: [branin], ablationSeeds: 1, batchMethod: 'constant-liar', log: (l) => lines.push(l),
  }));
  const liar = (await runOnFunction(benchGp(branin, 0, { batch: 'constant-liar' }), branin, 0, 24, 4)).final;
  const dflt = (await runOnFunction(benchGp(branin, 0), branin, 0, 24, 4)).final;
  assert.notEqual(liar, dflt, 'the two strategies should differ on this run, or the test shows nothing');
  assert.equal(r.regret[0]!.perSeed.gp[0], liar);
  const rows = r.ablation!.rows.filter((x) => x.batch === 4);
  assert.ok(rows.length > 0);
  for (const row of rows) assert.equal(row.defaultMedian, dflt, row.variant);
  assert.ok(lines.some((l) => /batch strategy in the regret section: constant-liar/.test(l)), lines.join('\n'));
});

test('bench bo --optuna-python: TPE runs under that interpreter (its Optuna version reported); one without optuna is a ConfigError naming the flag', { skip: venvMissing(['optuna'], 'TPE would run under .venv\'s Optuna') }, async () => {
  const lines: string[] = [];
  const branin = functionByName('branin')!;
  const r = await benchBo(options({ functions: [branin], seeds: 1, evals: 12, batches: [1], optuna: true, optunaPython: VENV_PYTHON, log: (l) => lines.push(l) }));
  const venvOptuna = spawnSync(VENV_PYTHON, ['-c', 'import optuna; print(optuna.__version__)'], { encoding: 'utf8' }).stdout.trim();
  assert.deepEqual(r.optuna, { version: venvOptuna });
  assert.ok(lines.some((l) => l.includes(`Optuna ${venvOptuna} TPE (multivariate) at batch 1`)), lines.join('\n'));
  assert.equal(r.regret[0]!.perSeed.tpe?.length, 1);
  await assert.rejects(benchBo(options({ optuna: true, optunaPython: '/bin/false' })),
    (e: unknown) => e instanceof ConfigError && /--optuna-python: \/bin\/false cannot import optuna/.test(e.message));
});

test('bench bo --held-out runs the held-out functions in place of the 15 (each with TPE when optuna is there); with --functions it is refused naming both flags', () => {
  const cli = new URL('../../../src/cli/main.js', import.meta.url).pathname;
  const r = spawnSync(process.execPath, [cli, 'bench', 'bo', '--held-out', '--seeds', '1', '--evals', '6', '--batches', '1', '--sections', 'regret', '--no-optuna'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const rows = r.stdout.split('\n').map((l) => /^ {2}(\S+) +q=1 {2}GP /.exec(l)?.[1]).filter((n) => n !== undefined);
  assert.deepEqual(rows, heldOutFunctions.map((f) => f.name));
  const both = spawnSync(process.execPath, [cli, 'bench', 'bo', '--held-out', '--functions', 'branin'], { encoding: 'utf8' });
  assert.equal(both.status, 1);
  assert.match(both.stderr, /--held-out: cannot be given with --functions/);
  assert.doesNotMatch(both.stderr, /\n\s+at /);
});
