// The final-validation lines of `run` and `show`: arms with their intervals, the paired verdicts in words, and an older report as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { finalTable } from '../../src/cli/final_table.js';
import { finalSeeds } from '../../src/study/final.js';
import { summarizeFinal } from '../../src/study/final_summary.js';
import type { TrialRecord, TrialRole } from '../../src/study/types.js';

function run(role: TrialRole, seed: number, value: number): TrialRecord {
  return {
    id: seed, studyId: 's', number: 0, state: 'COMPLETE', role, params: {}, schedule: { kind: 'batchnorm' }, value, failureReason: null, seed,
    metrics: null, intermediate: [], lease: null, retries: 0, claims: 0, pruneRequested: false, createdAt: '', startedAt: null, finishedAt: null,
  };
}

function report(arms: Record<string, number[]>, multipliers = [1]) {
  const seeds = finalSeeds(0, 3);
  const trials = Object.entries(arms).flatMap(([role, values]) => values.map((v, i) => run(role as TrialRole, seeds[i]!, v)));
  return JSON.parse(JSON.stringify(summarizeFinal(trials, {
    studySeed: 0, seeds: 3, stepsMultipliers: multipliers, totalSteps: 1000, metric: 'testAccuracy', direction: 'maximize', range: [0, 1],
    best: { trialId: 9, trialNumber: 7, pickedBy: 'race' }, bestRunsToCome: 0,
  })));
}

test('finalTable: arms with intervals, then each paired verdict in words', () => {
  const lines = finalTable(report({ 'final:batchnorm': [0.8, 0.82, 0.81], 'final:paper': [0.9, 0.92, 0.9], 'final:best': [0.91, 0.93, 0.895] }));
  assert.match(lines[0]!, /testAccuracy; every arm on the same 3 fresh seeds; mean and 95% CI\):$/);
  assert.match(lines[1]!, /^ {2}batchnorm\s+0\.8100\s+\[0\.\d{4}, 0\.\d{4}\]\s+n=3$/);
  assert.match(lines[3]!, /^ {2}best \(#7\)\s+0\.9117/);
  assert.match(lines[4]!, /^ {2}tuned vs paper\s+indistinguishable from the paper schedule: \+0\.50 pts \(95% CI −[\d.]+ to \+[\d.]+ pts, 3 paired seeds\)$/);
  assert.match(lines[5]!, /^ {2}tuned vs batchnorm\s+better than BatchNorm: \+10\.17 pts/);
});

test('finalTable: one block per run length', () => {
  const lines = finalTable(report({ 'final:paper': [0.9, 0.92, 0.9], 'final:best': [0.91, 0.93, 0.915], 'final:paper@x4': [0.95, 0.96, 0.95], 'final:best@x4': [0.94, 0.952, 0.938] }, [1, 4]));
  assert.ok(lines.includes("  at the study's run length:"));
  assert.ok(lines.includes('  at ×4 (4000 steps):'));
  assert.match(lines.at(-1)!, /^ {4}tuned vs paper\s+worse than the paper schedule: −1\.00 pts/);
});

test('finalTable: a report stored before pairing is shown as it was, without a verdict', () => {
  const rows = finalTable({ batchnorm: { values: [0.9, 0.92, 0.94], mean: 0.92, ci: [0.8703, 0.9697] }, best: { values: [0.95], mean: 0.95, ci: [null, null] }, trialId: 70, trialNumber: 7 });
  assert.match(rows[0]!, /stored before pairing: unpaired, no verdict/);
  assert.match(rows[1]!, /batchnorm\s+0\.9200\s+\[0\.8703, 0\.9697\]\s+n=3/);
  assert.match(rows[2]!, /best \(#7\)\s+0\.9500\s+n\/a \(under 2 seeds\)\s+n=1/);
  assert.equal(rows.length, 3);
  assert.match(finalTable(null)[0]!, /not run/);
});
