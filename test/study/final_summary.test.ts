// The final-validation report: values aligned with the seeds (the pairing), intervals inside the range, comparisons per run length.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { summarizeFinal, type FinalSummaryContext } from '../../src/study/final_summary.js';
import { finalSeeds } from '../../src/study/final.js';
import { readFinalValidation } from '../../src/shared/evidence.js';
import { trialMaker } from './evidence/trials.js';
import type { TrialRole } from '../../src/study/types.js';

const ctx = (over: Partial<FinalSummaryContext> = {}): FinalSummaryContext => ({
  studySeed: 0, seeds: 4, stepsMultipliers: [1], totalSteps: 1000, metric: 'testAccuracy', direction: 'maximize', range: [0, 1],
  best: { trialId: 7, trialNumber: 3, pickedBy: 'race' }, bestRunsToCome: 0, ...over,
});

/** Final runs of `role` with these values on the study's final seeds (null = that run failed). */
function runs(make: ReturnType<typeof trialMaker>, role: TrialRole, values: (number | null)[]) {
  const seeds = finalSeeds(0, values.length);
  return values.map((v, i) => make(role, v, { seed: seeds[i]! }));
}

test('report: arms aligned with the seeds, the paired comparison per baseline, provisional counts', () => {
  const make = trialMaker();
  const trials = [
    ...runs(make, 'final:batchnorm', [0.8, 0.85, 0.82, 0.81]),
    ...runs(make, 'final:paper', [0.9, 0.93, null, 0.905]),
    ...runs(make, 'final:best', [0.92, 0.95, 0.93, 0.93]).reverse(), // storage order does not matter, the seed does
  ];
  const r = summarizeFinal(trials, ctx());
  assert.equal(r.version, 2);
  assert.deepEqual(r.seeds, finalSeeds(0, 4));
  assert.deepEqual(r.arms.best!.values, [0.92, 0.95, 0.93, 0.93]);
  assert.deepEqual(r.arms.paper!.values, [0.9, 0.93, null, 0.905]);
  assert.equal(r.arms.paper!.n, 3);
  for (const a of Object.values(r.arms)) assert.ok(a!.ci![0] >= 0 && a!.ci![1] <= 1 && a!.ci![0] <= a!.mean! && a!.mean! <= a!.ci![1]);
  const vsPaper = r.comparisons.find((c) => c.b === 'paper')!;
  assert.equal(vsPaper.n, 3, 'the seed paper failed on drops out of the pair');
  assert.ok(Math.abs(vsPaper.meanDiff! - (0.02 + 0.02 + 0.025) / 3) < 1e-12);
  assert.deepEqual(r.comparisons.map((c) => [c.a, c.b, c.verdict]), [['best', 'paper', 'better'], ['best', 'batchnorm', 'better']]);
  assert.equal(r.pending, 0);
  assert.deepEqual([r.trialId, r.trialNumber], [7, 3], 'readers of the first shape still find the best trial');
  assert.match(r.interval, /Student t joined with a BCa bootstrap/);
  const later = summarizeFinal([...trials, make('final:best', null, { state: 'WAITING' })], ctx({ bestRunsToCome: 4 }));
  assert.equal(later.pending, 5, 'queued runs and best-arm runs still to come');
});

test('report: every run length gets its own arms and verdicts; the study\'s own length is the headline', () => {
  const make = trialMaker();
  const trials = [
    ...runs(make, 'final:paper', [0.9, 0.91, 0.92]),
    ...runs(make, 'final:best', [0.9, 0.915, 0.915]),
    ...runs(make, 'final:paper@x4', [0.95, 0.96, 0.955]),
    ...runs(make, 'final:best@x4', [0.93, 0.941, 0.934]),
  ];
  const r = summarizeFinal(trials, ctx({ seeds: 3, stepsMultipliers: [4, 1] }));
  assert.deepEqual(r.stepsMultipliers, [1, 4]);
  assert.deepEqual(r.byMultiplier.map((g) => [g.multiplier, g.steps]), [[1, 1000], [4, 4000]]);
  assert.deepEqual(r.arms, r.byMultiplier[0]!.arms);
  assert.equal(r.comparisons[0]!.verdict, 'indistinguishable');
  assert.equal(r.byMultiplier[1]!.comparisons[0]!.verdict, 'worse', 'at 4x the run length the tuned schedule loses by about 2 pts on every seed');
});

test('report: a minimised outside metric flips the verdict\'s sign; unbounded metrics are not clipped', () => {
  const make = trialMaker();
  const trials = [...runs(make, 'final:paper', [0.5, 0.6, 0.55]), ...runs(make, 'final:best', [0.4, 0.52, 0.44])];
  const r = summarizeFinal(trials, ctx({ seeds: 3, metric: 'loss', direction: 'minimize', range: [0, null] }));
  assert.equal(r.comparisons[0]!.verdict, 'better', 'a lower loss on every seed');
  assert.ok(r.comparisons[0]!.meanDiff! < 0);
});

test('reading: the paired report and the first, unpaired shape both read; the old one has no verdict', () => {
  const make = trialMaker();
  const paired = readFinalValidation(JSON.parse(JSON.stringify(summarizeFinal([...runs(make, 'final:paper', [0.9, 0.91]), ...runs(make, 'final:best', [0.92, 0.93])], ctx({ seeds: 2 })))))!;
  assert.equal(paired.paired, true);
  assert.equal(paired.fraction, true);
  assert.equal(paired.groups[0]!.comparisons.length, 1);
  const legacy = readFinalValidation({ batchnorm: { values: [0.8, 0.82], mean: 0.81, ci: [0.7, 0.92] }, best: { values: [0.9], mean: 0.9, ci: [null, null] }, trialId: 5, trialNumber: 4 })!;
  assert.equal(legacy.paired, false);
  assert.deepEqual(legacy.groups[0]!.comparisons, []);
  assert.equal(legacy.groups[0]!.arms.best!.ci, null, 'a one-seed interval stored as [null, null] reads as none');
  assert.equal(legacy.bestTrialNumber, 4);
  assert.equal(readFinalValidation(null), null);
  assert.equal(readFinalValidation({}), null);
});
