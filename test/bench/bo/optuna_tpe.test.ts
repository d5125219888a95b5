// The Optuna side of `bench bo`: the Python test functions agree with the TypeScript ones, the output parser
// rejects short or broken runs, and (when optuna is installed) a real TPE run parses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { Rng } from '../../../src/gp/rng.js';
import { DataError } from '../../../src/errors.js';
import { OPTUNA_PYTHON, optunaAvailability, parseOptunaOutput, pythonTestFunctionValues, runOptunaTpe } from '../../../src/bench/bo/optuna_tpe.js';
import { testFunctions } from '../../../src/bench/bo/test_functions.js';
import { heldOutFunctions } from '../../../src/bench/bo/held_out_functions.js';
import { EncodedSpace } from '../../../src/optimizer/space.js';

const noPython = existsSync(OPTUNA_PYTHON) ? false : `${OPTUNA_PYTHON} not found`;

test('Python and TypeScript test functions (the held-out ones too) agree to 1e-9 at random points and at the known optima', { skip: noPython }, async () => {
  const functions = [...testFunctions, ...heldOutFunctions];
  const rng = new Rng(11, 0);
  const points: Array<{ fn: string; x: Record<string, number | string> }> = [];
  for (const fn of functions) {
    const space = new EncodedSpace(fn.space);
    for (let k = 0; k < 20; k++) points.push({ fn: fn.name, x: space.decode(space.sampleUniform(rng)) });
  }
  // Known minimisers: the values there must also equal the optimum both sides quote (rounded literature values).
  for (const fn of functions) points.push({ fn: fn.name, x: fn.minimizer });
  const py = await pythonTestFunctionValues(points);
  points.forEach((p, i) => {
    const fn = functions.find((f) => f.name === p.fn)!;
    const ts = fn.f(p.x);
    assert.ok(Math.abs(ts - py[i]!) <= 1e-9 * Math.max(1, Math.abs(ts)), `${p.fn}(${JSON.stringify(p.x)}): TypeScript ${ts}, Python ${py[i]}`);
  });
  for (const fn of functions) {
    const at = py[points.length - functions.length + functions.indexOf(fn)]!;
    assert.ok(Math.abs(at - fn.optimum) < 1e-5 * Math.max(1, Math.abs(fn.optimum)), `${fn.name} at its known minimiser is ${at}, quoted optimum ${fn.optimum}`);
  }
});

const request = { functions: ['branin'], seeds: 2, evals: 3, batch: 1 };
const run = (seed: number, trace: unknown, over: Record<string, unknown> = {}) => ({ fn: 'branin', sampler: 'tpe_multivariate', seed, batch: 1, asynchronous: false, trace, final: Array.isArray(trace) ? trace[trace.length - 1] : 0, ...over });
const full = (...extra: unknown[]) => [run(0, [3, 2, 1]), run(1, [5, 5, 0.5]), ...extra];
const text = (runs: unknown[]) => `some warning\n${JSON.stringify({ optuna: '3.1.0', runs })}\n`;

test('parseOptunaOutput groups traces and final regrets by function and seed', () => {
  const out = parseOptunaOutput(text(full()), request);
  assert.equal(out.version, '3.1.0');
  assert.deepEqual(out.runs.branin!.trace, [[3, 2, 1], [5, 5, 0.5]]);
  assert.deepEqual(out.runs.branin!.final, [1, 0.5]);
});

test('parseOptunaOutput indexes a seed set that starts at firstSeed from 0, and refuses seeds outside it', () => {
  const req = { ...request, firstSeed: 10 };
  const out = parseOptunaOutput(text([run(11, [5, 5, 0.5]), run(10, [3, 2, 1])]), req);
  assert.deepEqual(out.runs.branin!.final, [1, 0.5]);
  assert.throws(() => parseOptunaOutput(text(full()), req), /seed out of range/);
});

test('parseOptunaOutput rejects missing seeds, short or rising traces, NaN, unknown samplers, wrong batches or pacings and duplicates', () => {
  const cases: Array<[string, unknown[], RegExp]> = [
    ['missing seed', full().slice(1), /branin: 1 of 2 seeds/],
    ['short trace', [run(0, [3, 2]), run(1, [5, 5, 0.5])], /2 entries, expected 3/],
    ['rising trace', [run(0, [1, 2, 3]), run(1, [5, 5, 0.5])], /rises at evaluation 2/],
    ['NaN', [run(0, [3, null, 1]), run(1, [5, 5, 0.5])], /not a finite non-negative/],
    ['NaN final', [run(0, [3, 2, 1], { final: null }), run(1, [5, 5, 0.5])], /final regret null/],
    ['unknown sampler', full(run(1, [1, 1, 1], { sampler: 'cmaes' })), /unknown sampler/],
    ['other batch', [run(0, [3, 2, 1], { batch: 4 }), run(1, [5, 5, 0.5])], /batch 4, requested 1/],
    ['other pacing', [run(0, [3, 2, 1], { asynchronous: true }), run(1, [5, 5, 0.5])], /asynchronous true, requested false/],
    ['no pacing', [run(0, [3, 2, 1], { asynchronous: undefined }), run(1, [5, 5, 0.5])], /asynchronous undefined, requested false/],
    ['duplicate', full(run(1, [1, 1, 1])), /duplicate run/],
    ['seed out of range', full(run(2, [1, 1, 1])), /seed out of range/],
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
test('a real Optuna TPE run (mixed space, batch 4) parses, improves on its first evaluation and is seeded', {
  skip: 'missing' in optuna ? `optuna not installed (${optuna.missing})` + '; .ci/run installs python3-optuna' : false,
}, async () => {
  const req = { functions: ['mixed_styblinski'], seeds: 2, evals: 16, batch: 4 };
  const out = await runOptunaTpe(req);
  const traces = out.runs.mixed_styblinski!.trace;
  assert.equal(traces.length, 2);
  // 10 startup trials are random; by 16 the best regret is below the first one in at least one seed.
  assert.ok(traces.some((t) => t[15]! < t[0]!), `no improvement over the first evaluation: ${JSON.stringify(traces)}`);
  const again = await runOptunaTpe(req);
  assert.deepEqual(again.runs, out.runs);
  // Seed 1 alone, asked as a second seed set from firstSeed 1, is the same run as the second seed above.
  const second = await runOptunaTpe({ ...req, seeds: 1, firstSeed: 1 });
  assert.deepEqual(second.runs.mixed_styblinski!.trace, [traces[1]]);
  // Asynchronous pacing is requested, echoed (the parser checks it) and seeded too.
  const async = { ...req, seeds: 1, asynchronous: true };
  assert.deepEqual((await runOptunaTpe(async)).runs, (await runOptunaTpe(async)).runs);
});
