// What parallel asks buy (src/bench/bo/speedup.ts): the evaluations and rounds asking q at a time needs to reach ask(1)'s median regret.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluationsToReach, medianCurve, speedup, speedupRow } from '../../../src/bench/bo/speedup.js';
import { benchGp, runOnFunction } from '../../../src/bench/bo/regret.js';
import { SOLVED } from '../../../src/bench/bo/summary.js';
import { functionByName } from '../../../src/bench/bo/test_functions.js';

test('the median curve is taken evaluation by evaluation over seeds', () => {
  assert.deepEqual(medianCurve([[5, 3, 1], [4, 4, 2], [9, 2, 2]]), [5, 3, 2]);
  assert.deepEqual(medianCurve([[4, 2], [6, 1]]), [5, 1.5]);
});

test('the first evaluation at or below the level; regrets below SOLVED count as reaching a solved level', () => {
  assert.equal(evaluationsToReach([9, 7, 5, 5, 3], 5), 3);
  assert.equal(evaluationsToReach([9, 7, 5.1], 5), null);
  assert.equal(evaluationsToReach([1e-3, 5e-5, 1e-6], 1e-9), 2, 'a level below SOLVED is reached once the curve is below SOLVED');
  assert.equal(SOLVED, 1e-4);
});

test('a batch curve that reaches the level at evaluation 10 with q = 4 takes 3 rounds: 8 rounds of 1 / 3 rounds', () => {
  // ask(1): 8 evaluations, median 1.0 at the 8th. ask(4): traces reaching 1.0 at evaluation 10 (median).
  const one = [[8, 7, 6, 5, 4, 3, 2, 1], [8, 7, 6, 5, 4, 3, 2, 1], [9, 9, 9, 9, 9, 9, 9, 9]];
  const fall = (at: number) => Array.from({ length: 16 }, (_, i) => (i + 1 >= at ? 1 : 10));
  const many = [fall(10), fall(12), fall(9)];
  const row = speedupRow('f', 4, 8, one, many);
  assert.equal(row.reference, 1);
  assert.equal(row.atEqualEvals, 10);
  assert.equal(row.evalsNeeded, 10);
  assert.equal(row.rounds, 3);
  assert.equal(row.speedup, 8 / 3);
  assert.equal(row.horizon, 16);
  const never = speedupRow('f', 4, 8, one, [fall(99), fall(99), fall(9)]);
  assert.equal(never.evalsNeeded, null);
  assert.equal(never.speedup, null);
});

test('end to end on Branin: reuses known one-at-a-time traces, runs the batch ones to twice the evaluations, and agrees with the runs themselves', async () => {
  const fn = functionByName('branin')!;
  const evals = 12;
  const known = new Map<string, number[]>();
  const one: number[][] = [];
  for (const seed of [0, 1, 2]) {
    const t = (await runOnFunction(benchGp(fn, seed), fn, seed, evals, 1)).trace;
    known.set(`branin/1/${seed}`, t);
    one.push(t);
  }
  const lines: string[] = [];
  const [row] = await speedup([fn], { seeds: 3, firstSeed: 0, evals, batches: [1, 4], horizon: 2, known, log: (l) => lines.push(l) });
  const many: number[][] = [];
  for (const seed of [0, 1, 2]) many.push((await runOnFunction(benchGp(fn, seed), fn, seed, 2 * evals, 4)).trace);
  assert.deepEqual(row, speedupRow('branin', 4, evals, one, many));
  assert.equal(row!.horizon, 24);
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /^ {2}branin +q=4 {2}ask\(1\) at 12: \S+ \(ask\(4\) at 12: \S+\); (reached after \d+ evaluations = \d+ rounds of 4: [\d.]+x sooner than 12 rounds of 1|not reached within 24 evaluations)$/);
});
