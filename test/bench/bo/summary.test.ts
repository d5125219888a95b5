// Regret summaries: quartiles by linear interpolation, paired win counts, the GP/TPE ratio when medians are zero, the README table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { markdownTable, quartiles, regretRow, solvedRatio, wins } from '../../../src/bench/bo/summary.js';

test('quartiles interpolate linearly between order statistics (numpy\'s default)', () => {
  assert.deepEqual(quartiles([4, 1, 3, 2]), { q1: 1.75, median: 2.5, q3: 3.25 });
  assert.deepEqual(quartiles([5]), { q1: 5, median: 5, q3: 5 });
});

test('wins are paired by seed and strict', () => {
  assert.equal(wins([1, 2, 3], [2, 2, 1]), 1);
});

test('GP/TPE ratio: both at the optimum is a tie, GP above zero against TPE at zero is a miss', () => {
  const fn = { name: 'f', group: 'smooth' };
  assert.equal(regretRow(fn, 1, 60, { gp: [0, 0, 0], random: [1, 1, 1], tpe: [0, 0, 0] }, 1).gpOverTpe, 1);
  assert.equal(regretRow(fn, 1, 60, { gp: [1, 1, 1], random: [1, 1, 1], tpe: [0, 0, 0] }, 1).gpOverTpe, Infinity);
  const r = regretRow(fn, 4, 60, { gp: [1, 2, 3], random: [5, 5, 5], tpe: [4, 4, 1] }, 2);
  assert.equal(r.gpOverTpe, 0.5);
  assert.equal(r.winsVsTpe, 2);
  assert.equal(r.winsVsRandom, 3);
  const table = markdownTable([r]);
  assert.match(table, /\| f \| smooth \| 4 \| 2\.00 \[1\.50, 2\.50\] \| 4\.00 \[2\.50, 4\.00\] \| 5\.00 \[5\.00, 5\.00\] \| 0\.500 \| 2\/3 \|/);
});

test('solvedRatio treats regrets below 1e-4 as equal (solved)', () => {
  assert.equal(solvedRatio(1e-6, 1e-5), 1);
  assert.ok(Math.abs(solvedRatio(3e-4, 1e-5) - 3) < 1e-12);
  assert.equal(solvedRatio(2, 4), 0.5);
});
