// Learning curves and gap: what is drawn, how many, and that long curves are decimated.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { curveData, trialCurves } from '../../dashboard/data/curves.js';
import { clipData } from '../../dashboard/data/clips.js';
import { scheduleData } from '../../dashboard/data/schedules.js';
import { fixtureStudy, trial } from './fixtures/study.js';

test('the gap is train-mode minus inference-mode accuracy at each step', () => {
  const t = trial({
    id: 1,
    intermediate: [
      { step: 20, value: 0.5, metrics: { valAccuracy: 0.5, valAccuracyTrainMode: 0.7 } },
      { step: 10, value: 0.4, metrics: { valAccuracy: 0.4, valAccuracyTrainMode: 0.45 } },
      { step: 30, value: 0.6 },
    ],
  });
  const c = trialCurves(t);
  assert.deepEqual(c.accuracy, [{ x: 10, y: 0.4 }, { x: 20, y: 0.5 }, { x: 30, y: 0.6 }]);
  assert.equal(c.gap.length, 2, 'a report without train-mode accuracy has no gap');
  assert.ok(Math.abs(c.gap[0].y - 0.05) < 1e-12 && Math.abs(c.gap[1].y - 0.2) < 1e-12);
});

test("reports without metrics.valAccuracy are the study's own metric (an external trainer's loss), and say so", () => {
  const loss = trial({ id: 1, value: 0.9, intermediate: [{ step: 10, value: 2.3 }, { step: 20, value: 0.9 }] });
  const acc = trial({ id: 2, value: 0.4, intermediate: [{ step: 10, value: 2.3, metrics: { valAccuracy: 0.4 } }] });
  assert.equal(trialCurves(loss).fromObjective, true, 'a curve of bare report values is the objective, not accuracy');
  assert.equal(trialCurves(acc).fromObjective, false);
  assert.equal(curveData([loss], 'minimize').fromObjective, true);
  assert.equal(curveData([acc], 'minimize').fromObjective, false);
});

test('hundreds of trials: only the top N plus both baselines are drawn, each at most 200 points', () => {
  const v = fixtureStudy(300, 3);
  for (const t of v.trials) {
    // Make the curves long so decimation has to act.
    t.intermediate = Array.from({ length: 1500 }, (_, i) => ({ step: i + 1, value: 0.5, metrics: { valAccuracy: 0.5 + i * 1e-4, valAccuracyTrainMode: 0.6 } }));
  }
  const c = curveData(v.trials, v.direction, 8);
  // The top 8, both baselines, and the running trial, followed live (it was left off while it ran).
  assert.equal(c.accuracy.length, 11);
  const running = v.trials.find((t) => t.state === 'RUNNING')!;
  assert.equal(c.accuracy.at(-1)!.trialId, running.id);
  assert.equal(c.accuracy.at(-1)!.label, `#${running.number} (running)`);
  assert.ok(c.accuracy.some((d) => d.label === 'BatchNorm') && c.accuracy.some((d) => d.label.startsWith('Paper')));
  for (const d of [...c.accuracy, ...c.gap]) assert.ok(d.data.length <= 200, `${d.label} has ${d.data.length} points`);
  // The first drawn search trial is the best complete one.
  const best = v.trials.filter((t) => t.state === 'COMPLETE' && t.role === 'search').sort((a, b) => (b.value as number) - (a.value as number))[0];
  assert.equal(c.accuracy[0].trialId, best.id);
});

test('an external study without reports says it has no curves', () => {
  const v = fixtureStudy(5);
  for (const t of v.trials) t.intermediate = [];
  const c = curveData(v.trials, v.direction);
  assert.equal(c.hasCurves, false);
  assert.equal(c.hasGap, false);
});

test('clip fractions give an r and a d series per layer, in step order', () => {
  const v = fixtureStudy(4);
  const d = clipData(v.trials[0]);
  assert.deepEqual(d.layers, ['brn_1', 'brn_2']);
  assert.deepEqual(d.datasets.map((s) => s.label), ['brn_1: r clipped', 'brn_1: d clipped', 'brn_2: r clipped', 'brn_2: d clipped']);
  const r1 = d.datasets[0].data as Array<{ x: number; y: number }>;
  assert.equal(r1.length, 20);
  assert.ok(Math.abs(r1[0].y - (0.6 - (20 / 400) * 0.5)) < 1e-12);
  assert.equal(clipData(trial({ id: 9, intermediate: [{ step: 1, value: 0, metrics: { clip: 'garbage' } }] })).datasets.length, 0);
});

test('schedules: top trials plus both baselines; the paper default is drawn when the study has no paper trial', () => {
  const v = fixtureStudy(20);
  const s = scheduleData(v.trials, v.direction, v.totalSteps, 5);
  assert.equal(s.rmax.length, 7);
  const paper = s.rmax.find((d) => d.label.startsWith('Paper'))!;
  assert.deepEqual(paper.borderDash, [6, 4]);
  const onlySearch = v.trials.filter((t) => t.role === 'search');
  const s2 = scheduleData(onlySearch, v.direction, v.totalSteps, 3);
  assert.equal(s2.rmax.length, 4);
  const last = s2.rmax[3].data[s2.rmax[3].data.length - 1] as { x: number; y: number };
  assert.deepEqual(last, { x: 400, y: 3 });
});
