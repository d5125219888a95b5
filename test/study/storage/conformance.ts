// The behaviour every Storage implementation must share; each backend's test file runs it against a fresh store.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, ConflictError, NotFoundError } from '../../../src/errors.js';
import type { NewTrial, Storage } from '../../../src/study/types.js';

const ramp = { kind: 'ramp', shape: 'linear', warmup: 0.1, rmaxFinal: 3, rmaxEnd: 0.8, dmaxFinal: 5, dmaxEnd: 0.5 } as const;
const newTrial = (over: Partial<NewTrial> = {}): NewTrial => ({ state: 'WAITING', params: { warmup: 0.1, shape: 'linear' }, schedule: ramp, seed: 7, ...over });
const config = { name: 's', scenario: { dataset: 'mnist', steps: 100 } };

export function storageConformance(name: string, open: () => Storage): void {
  describe(`Storage conformance: ${name}`, () => {
    let s: Storage;
    beforeEach(() => { s = open(); });
    afterEach(() => s.close());

    it('creates, finds and lists studies with their config verbatim', () => {
      const a = s.createStudy({ name: 'alpha', direction: 'maximize', config });
      const b = s.createStudy({ name: 'beta', direction: 'minimize', config: { nested: { x: [1, 2] } } });
      assert.match(a.id, /^[0-9a-f]{12}$/);
      assert.notEqual(a.id, b.id);
      assert.equal(a.state, 'CREATED');
      assert.deepEqual(a.attrs, {});
      assert.deepEqual(s.getStudy(a.id), a);
      assert.deepEqual(s.findStudyByName('beta')?.config, { nested: { x: [1, 2] } });
      assert.equal(s.getStudy('nope'), undefined);
      assert.equal(s.findStudyByName('nope'), undefined);
      assert.deepEqual(s.listStudies().map((x) => x.name), ['alpha', 'beta'], 'listStudies is in creation order');
    });

    it('refuses a duplicate study name with ConflictError and stores nothing', () => {
      s.createStudy({ name: 'alpha', direction: 'maximize', config });
      assert.throws(() => s.createStudy({ name: 'alpha', direction: 'minimize', config }), ConflictError);
      assert.equal(s.listStudies().length, 1);
    });

    it('updates study state and attrs; unknown study -> NotFoundError', () => {
      const a = s.createStudy({ name: 'alpha', direction: 'maximize', config });
      s.setStudyState(a.id, 'RUNNING');
      s.setStudyAttr(a.id, 'optimizer', { n: 3 });
      s.setStudyAttr(a.id, 'optimizer', { n: 4 });
      s.setStudyAttr(a.id, 'gone', undefined);
      const got = s.getStudy(a.id)!;
      assert.equal(got.state, 'RUNNING');
      assert.deepEqual(got.attrs, { optimizer: { n: 4 }, gone: null });
      assert.throws(() => s.setStudyState('nope', 'RUNNING'), NotFoundError);
      assert.throws(() => s.setStudyAttr('nope', 'k', 1), NotFoundError);
      assert.throws(() => s.setStudyState(a.id, 'BOGUS' as never), ConfigError);
    });

    it('numbers trials per study in creation order with global integer ids', () => {
      const a = s.createStudy({ name: 'a', direction: 'maximize', config });
      const b = s.createStudy({ name: 'b', direction: 'maximize', config });
      const t1 = s.createTrials(a.id, [newTrial({ label: 'batchnorm', schedule: { kind: 'batchnorm' } }), newTrial({ state: 'RUNNING' })]);
      const t2 = s.createTrials(b.id, [newTrial()]);
      const t3 = s.createTrials(a.id, [newTrial()]);
      assert.deepEqual([...t1, ...t3].map((t) => t.number), [0, 1, 2]);
      assert.equal(t2[0]!.number, 0);
      const ids = [...t1, ...t2, ...t3].map((t) => t.id);
      assert.ok(ids.every(Number.isInteger) && new Set(ids).size === 4, `ids must be distinct integers: ${ids}`);
      assert.equal(t1[0]!.label, 'batchnorm');
      assert.deepEqual(t1[0]!.schedule, { kind: 'batchnorm' });
      assert.equal(t1[0]!.startedAt, null);
      assert.ok(t1[1]!.startedAt, 'a trial created RUNNING has startedAt');
      assert.deepEqual(s.getTrial(a.id, t1[1]!.id), t1[1]);
      assert.equal(s.getTrial(b.id, t1[1]!.id), undefined, 'a trial is only found under its own study');
      assert.throws(() => s.createTrials('nope', [newTrial()]), NotFoundError);
      assert.throws(() => s.createTrials(a.id, [newTrial({ state: 'COMPLETE' as never })]), ConfigError);
      assert.equal(s.listTrials(a.id).length, 3, 'a rejected batch stores nothing');
    });

    it('startTrial is a compare-and-set', () => {
      const a = s.createStudy({ name: 'a', direction: 'maximize', config });
      const [t] = s.createTrials(a.id, [newTrial()]);
      assert.equal(s.startTrial(a.id, t!.id), true);
      assert.equal(s.startTrial(a.id, t!.id), false, 'a second start must lose');
      const got = s.getTrial(a.id, t!.id)!;
      assert.equal(got.state, 'RUNNING');
      assert.ok(got.startedAt);
      assert.throws(() => s.startTrial(a.id, 9999), NotFoundError);
    });

    it('records intermediate values in step order, first report of a step wins', () => {
      const a = s.createStudy({ name: 'a', direction: 'maximize', config });
      const [t] = s.createTrials(a.id, [newTrial({ state: 'RUNNING' })]);
      s.addIntermediate(a.id, t!.id, { step: 20, value: 0.5, metrics: { loss: 1.2 } });
      s.addIntermediate(a.id, t!.id, { step: 10, value: 0.25 });
      s.addIntermediate(a.id, t!.id, { step: 20, value: 0.9 });
      assert.deepEqual(s.getTrial(a.id, t!.id)!.intermediate, [{ step: 10, value: 0.25 }, { step: 20, value: 0.5, metrics: { loss: 1.2 } }]);
      assert.deepEqual(s.listTrials(a.id)[0]!.intermediate.length, 2, 'listTrials includes intermediates by default');
      assert.deepEqual(s.listTrials(a.id, { withIntermediate: false })[0]!.intermediate, []);
      assert.throws(() => s.addIntermediate(a.id, t!.id, { step: 1, value: NaN }), ConfigError);
      assert.throws(() => s.addIntermediate(a.id, t!.id, { step: -1, value: 1 }), ConfigError);
      assert.throws(() => s.addIntermediate(a.id, 9999, { step: 1, value: 1 }), NotFoundError);
      s.finishTrial(a.id, t!.id, { state: 'PRUNED', value: 0.5 });
      assert.throws(() => s.addIntermediate(a.id, t!.id, { step: 30, value: 1 }), ConflictError);
    });

    it('finishes a trial once; the second finish is a ConflictError and changes nothing', () => {
      const a = s.createStudy({ name: 'a', direction: 'maximize', config });
      const [t, w] = s.createTrials(a.id, [newTrial({ state: 'RUNNING' }), newTrial()]);
      const done = s.finishTrial(a.id, t!.id, { state: 'COMPLETE', value: 0.93, metrics: { valAccuracy: 0.93, backend: 'cpu' } });
      assert.equal(done.state, 'COMPLETE');
      assert.equal(done.value, 0.93);
      assert.deepEqual(done.metrics, { valAccuracy: 0.93, backend: 'cpu' });
      assert.ok(done.finishedAt);
      assert.throws(() => s.finishTrial(a.id, t!.id, { state: 'FAIL', failureReason: 'x' }), ConflictError);
      assert.deepEqual(s.getTrial(a.id, t!.id), done);
      const failed = s.finishTrial(a.id, w!.id, { state: 'FAIL', failureReason: 'out of memory' });
      assert.equal(failed.failureReason, 'out of memory');
      assert.equal(failed.value, null);
      assert.ok(failed.startedAt, 'a WAITING trial finished directly gets startedAt = finishedAt');
      assert.throws(() => s.finishTrial(a.id, 9999, { state: 'COMPLETE', value: 1 }), NotFoundError);
    });

    it('rejects a COMPLETE without a finite value before touching the trial', () => {
      const a = s.createStudy({ name: 'a', direction: 'maximize', config });
      const [t] = s.createTrials(a.id, [newTrial({ state: 'RUNNING' })]);
      for (const value of [undefined, null, NaN, Infinity]) {
        assert.throws(() => s.finishTrial(a.id, t!.id, { state: 'COMPLETE', value }), ConfigError, `value ${value}`);
      }
      assert.equal(s.getTrial(a.id, t!.id)!.state, 'RUNNING');
    });

    it('filters trials by state and requeues RUNNING ones of one study only', () => {
      const a = s.createStudy({ name: 'a', direction: 'maximize', config });
      const b = s.createStudy({ name: 'b', direction: 'maximize', config });
      const ts = s.createTrials(a.id, [newTrial({ state: 'RUNNING' }), newTrial({ state: 'RUNNING' }), newTrial(), newTrial({ state: 'RUNNING' })]);
      s.createTrials(b.id, [newTrial({ state: 'RUNNING' })]);
      s.finishTrial(a.id, ts[3]!.id, { state: 'COMPLETE', value: 1 });
      assert.deepEqual(s.listTrials(a.id, { states: ['RUNNING'] }).map((t) => t.number), [0, 1]);
      assert.deepEqual(s.listTrials(a.id, { states: [] }), []);
      assert.equal(s.requeueRunning(a.id), 2);
      assert.deepEqual(s.listTrials(a.id).map((t) => t.state), ['WAITING', 'WAITING', 'WAITING', 'COMPLETE']);
      assert.equal(s.listTrials(a.id)[0]!.startedAt, null);
      assert.equal(s.listTrials(b.id)[0]!.state, 'RUNNING', 'other studies are untouched');
      assert.equal(s.requeueRunning(a.id), 0);
    });

    it('returns copies: mutating a returned record does not change storage', () => {
      const a = s.createStudy({ name: 'a', direction: 'maximize', config });
      const [t] = s.createTrials(a.id, [newTrial()]);
      (t!.params as Record<string, unknown>).warmup = 99;
      (s.getStudy(a.id)!.config as Record<string, unknown>).name = 'changed';
      assert.equal(s.getTrial(a.id, t!.id)!.params.warmup, 0.1);
      assert.equal(s.getStudy(a.id)!.config.name, 's');
    });
  });
}
