// The default schedule space, overrides of it, and the mapping of its points to valid ramp schedules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/errors.js';
import { defaultScheduleSpace, mergeScheduleSpace, paramsToSchedule } from '../../src/study/schedule_space.js';
import { EncodedSpace, validateSpace } from '../../src/optimizer/space.js';
import { Rng } from '../../src/gp/rng.js';

test('every point of the default space maps to a ramp whose ends come after the warm-up and within the run', () => {
  const s = new EncodedSpace(validateSpace(defaultScheduleSpace));
  const rng = new Rng(2);
  for (let i = 0; i < 500; i++) {
    const { schedule, renormMomentum } = paramsToSchedule(s.decode(s.sampleUniform(rng)));
    assert.equal(schedule.kind, 'ramp');
    assert.ok(schedule.warmup >= 0 && schedule.warmup <= 0.5);
    assert.ok(schedule.rmaxEnd >= schedule.warmup && schedule.rmaxEnd <= 1, `rmaxEnd ${schedule.rmaxEnd} vs warmup ${schedule.warmup}`);
    assert.ok(schedule.dmaxEnd >= schedule.warmup && schedule.dmaxEnd <= 1);
    assert.ok(schedule.rmaxFinal >= 1 && schedule.rmaxFinal <= 5);
    assert.ok(['linear', 'cosine', 'exponential'].includes(schedule.shape));
    assert.ok(renormMomentum! >= 0.9 && renormMomentum! <= 0.999);
  }
});

test('paramsToSchedule: the end fractions are shares of the run left after warm-up', () => {
  const { schedule } = paramsToSchedule({ warmup: 0.2, rmaxFinal: 3, rmaxEndFrac: 0.5, dmaxFinal: 5, dmaxEndFrac: 1, shape: 'cosine', renormMomentum: 0.99 });
  assert.ok(Math.abs(schedule.rmaxEnd - 0.6) < 1e-12, `rmaxEnd ${schedule.rmaxEnd}`);
  assert.deepEqual({ ...schedule, rmaxEnd: 0.6 }, { kind: 'ramp', shape: 'cosine', warmup: 0.2, rmaxFinal: 3, rmaxEnd: 0.6, dmaxFinal: 5, dmaxEnd: 1 });
});

test('mergeScheduleSpace: narrower ranges and fixed values are applied, the rest stays default', () => {
  const s = mergeScheduleSpace({ warmup: { type: 'float', low: 0.05, high: 0.2 }, shape: 'linear', renormMomentum: 0.99 });
  assert.deepEqual(s.warmup, { type: 'float', low: 0.05, high: 0.2, log: false });
  assert.deepEqual(s.shape, { type: 'categorical', choices: ['linear'] });
  assert.deepEqual(s.renormMomentum, { type: 'categorical', choices: [0.99] });
  assert.deepEqual(s.dmaxFinal, defaultScheduleSpace.dmaxFinal);
  const noMomentum = mergeScheduleSpace({ renormMomentum: null });
  assert.ok(!('renormMomentum' in noMomentum));
  const { renormMomentum } = paramsToSchedule({ warmup: 0.1, rmaxFinal: 3, rmaxEndFrac: 0.5, dmaxFinal: 5, dmaxEndFrac: 0.5, shape: 'linear' });
  assert.equal(renormMomentum, undefined);
});

test('mergeScheduleSpace rejects unknown names (listing the allowed ones) and values outside what a schedule allows', () => {
  assert.throws(() => mergeScheduleSpace({ warmUp: 0.1, foo: 1 }), (e: unknown) => e instanceof ConfigError && /warmUp, foo/.test(e.message) && /allowed: warmup, rmaxFinal/.test(e.message));
  assert.throws(() => mergeScheduleSpace({ rmaxFinal: { type: 'float', low: 0.5, high: 3 } }), (e: unknown) => e instanceof ConfigError && e.field === 'space.rmaxFinal');
  assert.throws(() => mergeScheduleSpace({ shape: { type: 'categorical', choices: ['linear', 'step'] } }), (e: unknown) => e instanceof ConfigError && e.field === 'space.shape.choices');
  assert.throws(() => mergeScheduleSpace({ warmup: { type: 'float', low: 0.3, high: 0.1 } }), (e: unknown) => e instanceof ConfigError && e.field === 'space.warmup');
  // A number sent as a string is named as one (it was "outside the allowed range [0, 0.99]").
  for (const v of ['0.1', { type: 'categorical', choices: [0.05, '0.1'] }]) {
    assert.throws(() => mergeScheduleSpace({ warmup: v }), (e: unknown) => e instanceof ConfigError && e.field === 'space.warmup' && /"0.1" is not a number/.test(e.message) && /0.1, not "0.1"/.test(e.message) && !/outside/.test(e.message));
  }
});
