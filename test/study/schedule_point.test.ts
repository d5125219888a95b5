// One mapping from a schedule to the point of the study's space it equals: baselines, enqueued schedules and warm starts agree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { studySpace } from '../../src/study/service/defaults.js';
import { baselineTrials } from '../../src/study/baselines.js';
import { enqueuedTrial } from '../../src/study/enqueue.js';
import { pointIn, scheduleParams } from '../../src/study/schedule_point.js';
import { paramsToSchedule } from '../../src/study/schedule_space.js';
import { scheduleAt } from '../../src/schedule/evaluate.js';
import type { ScheduleSpec } from '../../src/schedule/types.js';
import { baseConfig } from './service/fakes.js';

test('an enqueued BatchNorm or paper schedule gets the very point its baseline has, and that point clips the same way', () => {
  const space = studySpace(baseConfig());
  const [bn, paper] = baselineTrials(space);
  assert.deepEqual(enqueuedTrial({ kind: 'batchnorm' }, space).params, bn!.params);
  assert.deepEqual(enqueuedTrial({ kind: 'paper' }, space).params, paper!.params);
  for (const schedule of [{ kind: 'batchnorm' }, { kind: 'paper' }, { kind: 'paper', warmup: 0.05, rmaxFinal: 2 }] as ScheduleSpec[]) {
    const ramp = paramsToSchedule(scheduleParams(schedule, space)!).schedule;
    for (const step of [0, 30, 100, 300, 500, 790, 800, 1000]) {
      const [a, b] = [scheduleAt(schedule, step, 1000), scheduleAt(ramp, step, 1000)];
      assert.ok(Math.abs(a.rmax - b.rmax) < 1e-9 && Math.abs(a.dmax - b.dmax) < 1e-9, `${JSON.stringify(schedule)} at step ${step}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    }
  }
});

test('a schedule outside a narrowed space, or a formula, has no point; params outside the space are not one', () => {
  const narrow = studySpace(baseConfig({ space: { warmup: 0.3 } }));
  assert.equal(scheduleParams({ kind: 'batchnorm' }, narrow), null);
  assert.deepEqual(baselineTrials(narrow).map((t) => t.params), [{}, {}]);
  const space = studySpace(baseConfig());
  assert.equal(scheduleParams({ kind: 'formula', rmax: '1', dmax: '0' } as ScheduleSpec, space), null);
  const bn = scheduleParams({ kind: 'batchnorm' }, space)!;
  assert.deepEqual(pointIn(space, bn), bn);
  assert.equal(pointIn(space, { ...bn, warmup: -1 }), null);
  assert.equal(pointIn(space, { ...bn, extra: 1 }), null);
});
