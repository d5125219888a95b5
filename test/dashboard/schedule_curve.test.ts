// The browser's schedule evaluation must draw exactly what the trainer applies: compared with scheduleAt on many points.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clippingAt, trialScheduleCurves } from '../../dashboard/data/schedule_curve.js';
import { scheduleAt } from '../../src/schedule/index.js';
import type { ScheduleSpec } from '../../src/schedule/types.js';
import { rng, trial } from './fixtures/study.js';

function randomSpecs(count: number): ScheduleSpec[] {
  const r = rng(42);
  const specs: ScheduleSpec[] = [{ kind: 'batchnorm' }, { kind: 'paper' }, { kind: 'paper', warmup: 0.2, rmaxFinal: 2 }, { kind: 'paper', dmaxEnd: 0.9, dmaxFinal: 1 }];
  const shapes = ['linear', 'cosine', 'exponential'] as const;
  for (let i = 0; i < count; i++) {
    const warmup = r() * 0.5;
    specs.push({
      kind: 'ramp',
      shape: shapes[i % 3],
      warmup,
      // Include zero-length ramps (a step at warmup) and ramps ending at t = 1.
      rmaxEnd: i % 7 === 0 ? warmup : i % 5 === 0 ? 1 : warmup + r() * (1 - warmup),
      dmaxEnd: i % 11 === 0 ? warmup : warmup + r() * (1 - warmup),
      rmaxFinal: i % 9 === 0 ? 1 : 1 + r() * 4,
      dmaxFinal: i % 8 === 0 ? 0 : r() * 6,
    });
  }
  return specs;
}

test('clippingAt equals scheduleAt for every built-in kind on 1001 steps each', () => {
  const totalSteps = 1000;
  let compared = 0;
  for (const spec of randomSpecs(60)) {
    for (let step = 0; step <= totalSteps; step++) {
      const ref = scheduleAt(spec, step, totalSteps);
      const got = clippingAt(spec, step / totalSteps)!;
      assert.ok(Math.abs(got.rmax - ref.rmax) <= 1e-12 * Math.max(1, ref.rmax), `rmax of ${JSON.stringify(spec)} at step ${step}: dashboard ${got.rmax}, trainer ${ref.rmax}`);
      assert.ok(Math.abs(got.dmax - ref.dmax) <= 1e-12 * Math.max(1, ref.dmax), `dmax of ${JSON.stringify(spec)} at step ${step}: dashboard ${got.dmax}, trainer ${ref.dmax}`);
      compared++;
    }
  }
  assert.equal(compared, 64 * 1001);
});

test('formula schedules are not evaluated in the browser', () => {
  assert.equal(clippingAt({ kind: 'formula', rmax: '1 + 2 * t', dmax: '5 * t' }, 0.5), null);
});

test('a formula trial draws its recorded per-step clipping, and nothing before any report', () => {
  const spec: ScheduleSpec = { kind: 'formula', rmax: '1 + 2 * t', dmax: '5 * t' };
  assert.equal(trialScheduleCurves(trial({ id: 1, schedule: spec }), 100), null);
  const t = trial({
    id: 1,
    schedule: spec,
    intermediate: [
      { step: 10, value: 0.5, metrics: { rmax: 1.2, dmax: 0.5 } },
      { step: 20, value: 0.6, metrics: { rmax: 1.4, dmax: 1 } },
    ],
  });
  const c = trialScheduleCurves(t, 100)!;
  assert.equal(c.source, 'recorded');
  assert.deepEqual(c.rmax, [{ x: 10, y: 1.2 }, { x: 20, y: 1.4 }]);
  assert.deepEqual(c.dmax, [{ x: 10, y: 0.5 }, { x: 20, y: 1 }]);
});

test('built-in curves are sampled in steps of the study run', () => {
  const c = trialScheduleCurves(trial({ id: 1, schedule: { kind: 'paper' } }), 500, 11)!;
  assert.equal(c.rmax.length, 11);
  assert.equal(c.rmax[10].x, 500);
  assert.equal(c.rmax[10].y, 3);
  assert.equal(c.dmax[5].y, 5 * ((0.5 - 0.1) / 0.4));
  assert.equal(c.rmax[1].y, 1, 'BatchNorm during the warm-up');
});
