// Final validation's runs: roles and keys per arm and run length, the same fresh seeds for every arm, the metric per executor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bestRunTag, finalArmRole, finalMetricOf, finalSeeds, finalTrials, parseFinalRole, stepsMultiplierOf } from '../../src/study/final.js';
import type { TrialRecord } from '../../src/study/types.js';
import { isValidRole, roleKind } from '../../src/shared/roles.js';
import { finalSeed } from '../../src/study/seeds.js';

const src = (kind: 'batchnorm' | 'paper') => ({ params: {}, schedule: { kind } as const });

test('final runs: every arm on the same seeds at every run length, keyed so a rerun creates nothing twice', () => {
  const runs = finalTrials({ batchnorm: src('batchnorm'), paper: src('paper') }, 7, 3, [1, 4]);
  assert.equal(runs.length, 2 * 3 * 2);
  assert.equal(new Set(runs.map((r) => r.key)).size, runs.length, 'keys are unique');
  assert.deepEqual(runs.filter((r) => r.role === 'final:paper').map((r) => r.key), ['final:paper:0', 'final:paper:1', 'final:paper:2'], 'the study\'s own length keeps the first key shape');
  assert.deepEqual(runs.filter((r) => r.role === 'final:paper@x4').map((r) => r.key), ['final:paper@x4:0', 'final:paper@x4:1', 'final:paper@x4:2']);
  const seedsOf = (role: string) => runs.filter((r) => r.role === role).map((r) => r.seed);
  for (const role of ['final:batchnorm', 'final:paper@x4', 'final:batchnorm@x4']) assert.deepEqual(seedsOf(role), seedsOf('final:paper'), `${role}: paired seeds`);
  assert.deepEqual(seedsOf('final:paper'), finalSeeds(7, 3));
  assert.deepEqual(finalSeeds(7, 2), [finalSeed(7, 0), finalSeed(7, 1)]);
  assert.ok(runs.every((r) => r.state === 'WAITING' && isValidRole(r.role) && roleKind(r.role) === 'final'));
});

test('final roles: arm and run-length multiplier parse back; anything else is not a final run', () => {
  assert.equal(finalArmRole('best', 1), 'final:best');
  assert.equal(finalArmRole('best', 4), 'final:best@x4');
  assert.deepEqual(parseFinalRole('final:best@x4'), { arm: 'best', multiplier: 4 });
  assert.deepEqual(parseFinalRole('final:paper'), { arm: 'paper', multiplier: 1 });
  assert.equal(parseFinalRole('race:3'), null);
  assert.equal(stepsMultiplierOf('final:batchnorm@x16'), 16);
  assert.equal(stepsMultiplierOf('search'), 1);
});

test('the final metric: test accuracy for the local trainer; an outside trainer\'s own objective, direction and range', () => {
  assert.deepEqual(finalMetricOf({ executor: 'local', objective: { metric: 'loss', direction: 'minimize' } }), { metric: 'testAccuracy', direction: 'maximize', range: [0, 1] });
  assert.deepEqual(finalMetricOf({ executor: 'external', objective: { metric: 'loss', direction: 'minimize' } }), { metric: 'loss', direction: 'minimize', range: [0, null] });
});

test('the best arm\'s runs belong to one pick: the first keeps the plain keys, a later different pick (an extended study) gets its own', () => {
  const ramp = (rmaxFinal: number) => ({ params: { rmaxFinal }, schedule: { kind: 'ramp', shape: 'linear', warmup: 0.1, rmaxFinal, rmaxEnd: 0.8, dmaxFinal: 5, dmaxEnd: 0.5 } as const });
  const a = { ...ramp(3), trialNumber: 4 };
  const b = { ...ramp(4), trialNumber: 12 };
  assert.equal(bestRunTag([], a), '', 'no best-arm run yet: the plain keys');
  const made = (pick: typeof a, tag: string, from: number) => finalTrials({ best: pick }, 7, 2, [1, 4], tag).map((r, i) => ({ ...r, number: from + i }) as unknown as TrialRecord);
  const runsA = made(a, bestRunTag([], a), 20);
  assert.deepEqual(runsA.map((r) => (r as unknown as { key: string }).key), ['final:best:0', 'final:best:1', 'final:best@x4:0', 'final:best@x4:1']);
  assert.equal(bestRunTag(runsA, a), '', 'the same pick again: its runs are found, nothing twice');
  assert.equal(bestRunTag(runsA, b), '#12', 'another pick: runs of its own');
  const runsB = made(b, '#12', 30);
  assert.deepEqual(runsB.map((r) => (r as unknown as { key: string }).key), ['final:best:0#12', 'final:best:1#12', 'final:best@x4:0#12', 'final:best@x4:1#12']);
  assert.equal(bestRunTag([...runsB, ...runsA], a), '', 'back to the first pick: its plain keys again');
  assert.deepEqual(runsB.map((r) => r.seed), runsA.map((r) => r.seed), 'every pick on the same paired seeds');
});
