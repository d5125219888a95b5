// The Optuna side of `bench bo`: the Python test functions agree with the TypeScript ones, the output parser
// rejects short or broken runs, and (when optuna is installed) a real TPE run parses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { Rng } from '../../../src/gp/rng.js';
import { DataError } from '../../../src/errors.js';
import { OPTUNA_PYTHON, optunaAvailability, parseOptunaOutput, pythonTestFunctionValues, runOptunaTpe } from '../../../src/bench/bo/optuna_tpe.js';
import { testFunctions } from '../../../src/bench/bo/test_functions.js';
import type { FloatParam } from '../../../src/optimizer/space.js';

const noPython = existsSync(OPTUNA_PYTHON) ? false : `${OPTUNA_PYTHON} not found`;

test('Python and TypeScript test functions agree to 1e-9 at random points and at the known optima', { skip: noPython }, async () => {
  const rng = new Rng(11, 0);
  const points: Array<{ fn: string; x: number[] }> = [];
  for (const fn of testFunctions) {
    const specs = Object.values(fn.space) as FloatParam[];
    for (let k = 0; k < 20; k++) points.push({ fn: fn.name, x: specs.map((s) => s.low + (s.high - s.low) * rng.uniform()) });
  }
  // Known minimisers: the values there must also equal the optimum both sides quote (rounded literature values).
  const minimisers: Record<string, number[]> = {
    branin: [Math.PI, 2.275],
    hartmann3: [0.114614, 0.555649, 0.852547],
    hartmann6: [0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573],
    rosenbrock4: [1, 1, 1, 1],
    ackley5: [0, 0, 0, 0, 0],
  };
  for (const [fn, x] of Object.entries(minimisers)) points.push({ fn, x });
  const py = await pythonTestFunctionValues(points);
  points.forEach((p, i) => {
    const fn = testFunctions.find((f) => f.name === p.fn)!;
    const ts = fn.f(Object.fromEntries(p.x.map((v, j) => [`x${j}`, v])));
    assert.ok(Math.abs(ts - py[i]!) <= 1e-9 * Math.max(1, Math.abs(ts)), `${p.fn}(${p.x.join(', ')}): TypeScript ${ts}, Python ${py[i]}`);
  });
  for (const fn of testFunctions) {
    const at = py[points.length - testFunctions.length + testFunctions.indexOf(fn)]!;
    assert.ok(Math.abs(at - fn.optimum) < 1e-5, `${fn.name} at its known minimiser is ${at}, quoted optimum ${fn.optimum}`);
  }
});

const request = { functions: ['branin'], seeds: 2, evals: 3 };
const run = (sampler: string, seed: number, trace: unknown) => ({ fn: 'branin', sampler, seed, trace });
const full = (over: Partial<Record<string, unknown>> = {}) => [
  run('tpe_multivariate', 0, [3, 2, 1]), run('tpe_multivariate', 1, [5, 5, 0.5]), run('tpe', 0, [4, 4, 4]), run('tpe', 1, [2, 1, 0]), over,
].filter((r) => Object.keys(r).length > 0);
const text = (runs: unknown[]) => `some warning\n${JSON.stringify({ optuna: '3.1.0', runs })}\n`;

test('parseOptunaOutput groups traces by sampler, function and seed', () => {
  const out = parseOptunaOutput(text(full()), request);
  assert.equal(out.version, '3.1.0');
  assert.deepEqual(out.traces.tpe_multivariate.branin, [[3, 2, 1], [5, 5, 0.5]]);
  assert.deepEqual(out.traces.tpe.branin, [[4, 4, 4], [2, 1, 0]]);
});

test('parseOptunaOutput rejects missing seeds, short or rising traces, NaN, unknown samplers and duplicates', () => {
  const cases: Array<[string, unknown[], RegExp]> = [
    ['missing seed', full().slice(1), /tpe_multivariate on branin: 1 of 2 seeds/],
    ['short trace', [...full().slice(1), run('tpe_multivariate', 0, [3, 2])], /2 entries, expected 3/],
    ['rising trace', [...full().slice(1), run('tpe_multivariate', 0, [1, 2, 3])], /rises at evaluation 2/],
    ['NaN', [...full().slice(1), run('tpe_multivariate', 0, [3, null, 1])], /not a finite non-negative/],
    ['unknown sampler', full(run('cmaes', 0, [1, 1, 1])), /unknown sampler/],
    ['duplicate', full(run('tpe', 1, [1, 1, 1])), /duplicate run/],
    ['seed out of range', full(run('tpe', 2, [1, 1, 1])), /seed out of range/],
  ];
  for (const [name, runs, msg] of cases) {
    assert.throws(() => parseOptunaOutput(text(runs), request), (e: unknown) => e instanceof DataError && msg.test(e.message), name);
  }
  assert.throws(() => parseOptunaOutput('Traceback ...', request), /last line is not JSON/);
});

test('optunaAvailability names the interpreter and the fix when optuna cannot be used', () => {
  assert.deepEqual(optunaAvailability('/nonexistent/python3'), { missing: '/nonexistent/python3 does not exist' });
  if (existsSync('/bin/false')) {
    const r = optunaAvailability('/bin/false');
    assert.ok('missing' in r && /\/bin\/false cannot import optuna \(exit status 1\).*apt-get install python3-optuna/.test(r.missing), JSON.stringify(r));
  }
});

const optuna = existsSync(OPTUNA_PYTHON) ? optunaAvailability() : { missing: `${OPTUNA_PYTHON} not found` };
test('a real Optuna TPE run on Branin parses and improves on its first evaluation', {
  skip: 'missing' in optuna ? `optuna not installed (${optuna.missing}); CI has no optuna` : false,
}, async () => {
  const out = await runOptunaTpe({ functions: ['branin'], seeds: 2, evals: 12 });
  for (const traces of [out.traces.tpe_multivariate.branin!, out.traces.tpe.branin!]) {
    assert.equal(traces.length, 2);
    // 10 startup trials are random; by 12 the best regret is below the first one in at least one seed.
    assert.ok(traces.some((t) => t[11]! < t[0]!), `no improvement over the first evaluation: ${JSON.stringify(traces)}`);
  }
  // Seeded: the same request gives the same traces.
  const again = await runOptunaTpe({ functions: ['branin'], seeds: 2, evals: 12 });
  assert.deepEqual(again.traces, out.traces);
});
