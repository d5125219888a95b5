import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StudyService } from '../../../src/study/service.js';
import { MemoryStorage, SqliteStorage } from '../../../src/study/storage/index.js';
import { ConfigError, ConflictError, NotFoundError } from '../../../src/errors.js';
import type { StudyEvent } from '../../../src/study/api_types.js';
import { RecordingOptimizer, baseConfig, fakeDeps } from './fakes.js';

function setup(over: Record<string, unknown> = {}) {
  const made: RecordingOptimizer[] = [];
  const svc = new StudyService(new MemoryStorage(), fakeDeps(made));
  const study = svc.createStudy(baseConfig(over));
  return { svc, study, made };
}

test('service: createStudy validates before writing anything', () => {
  const svc = new StudyService(new MemoryStorage(), fakeDeps());
  assert.throws(() => svc.createStudy({ name: 'x', scenario: {}, budget: { trials: 1 } }), (e: unknown) => e instanceof ConfigError && e.field === 'budget.trials');
  assert.deepEqual(svc.listStudies(), []);
});

test('service: ask persists trials before returning them (WAITING for local, RUNNING for external)', async () => {
  const local = setup();
  const [a] = await local.svc.ask(local.study.id, 1);
  assert.equal(local.svc.storage.getTrial(local.study.id, a!.id)?.state, 'WAITING');
  assert.equal(local.svc.getStudy(local.study.id).state, 'RUNNING');
  const ext = setup({ executor: 'external' });
  const [b] = await ext.svc.ask(ext.study.id, 1);
  const stored = ext.svc.storage.getTrial(ext.study.id, b!.id)!;
  assert.equal(stored.state, 'RUNNING');
  assert.deepEqual(stored.schedule, b!.schedule);
  assert.deepEqual(stored.params, b!.params);
});

test('service: concurrent asks are serialized: distinct trials, each ask sees the earlier ones pending', async () => {
  const { svc, study, made } = setup({ executor: 'external', budget: { trials: 100 } });
  const batches = await Promise.all(Array.from({ length: 8 }, () => svc.ask(study.id, 2)));
  const ids = batches.flat().map((t) => t.id);
  assert.equal(new Set(ids).size, 16, 'no trial handed out twice');
  assert.equal(new Set(batches.flat().map((t) => JSON.stringify(t.params))).size, 16, 'no suggestion repeated');
  assert.deepEqual(made[0]!.pendingAtAsk, [0, 2, 4, 6, 8, 10, 12, 14], 'ask k started with 2k pending points');
});

test('service: tell finishes once; a second tell is a ConflictError; the optimizer learns the value', async () => {
  const { svc, study, made } = setup({ executor: 'external' });
  const [t] = await svc.ask(study.id, 1);
  assert.equal(svc.tell(study.id, t!.id, { value: 0.91 }).state, 'COMPLETE');
  assert.throws(() => svc.tell(study.id, t!.id, { value: 0.5 }), ConflictError);
  assert.equal(svc.storage.getTrial(study.id, t!.id)!.value, 0.91, 'the first value stands');
  await svc.ask(study.id, 1);
  assert.deepEqual(made[0]!.observations.map((o) => o.value), [0.91]);
});

test('service: unknown study or trial ids are NotFoundError', async () => {
  const { svc, study } = setup();
  await assert.rejects(svc.ask('nope', 1), NotFoundError);
  assert.throws(() => svc.tell(study.id, 999, { value: 1 }), NotFoundError);
  assert.throws(() => svc.report(study.id, 999, 1, 0.5), NotFoundError);
  assert.throws(() => svc.getStudyView('nope'), NotFoundError);
  assert.throws(() => svc.tell('nope', 1, { value: 1 }), NotFoundError);
});

test('service: bad ask counts and tell values name the field', async () => {
  const { svc, study } = setup({ executor: 'external' });
  await assert.rejects(svc.ask(study.id, 0), (e: unknown) => e instanceof ConfigError && e.field === 'count');
  const [t] = await svc.ask(study.id, 1);
  assert.throws(() => svc.tell(study.id, t!.id, { value: NaN }), (e: unknown) => e instanceof ConfigError && e.field === 'value');
});

test('service: a failed tell reaches the optimizer as null; fail reasons are stored', async () => {
  const { svc, study, made } = setup({ executor: 'external' });
  const [t] = await svc.ask(study.id, 1);
  const rec = svc.tell(study.id, t!.id, { failed: 'out of memory' });
  assert.equal(rec.state, 'FAIL');
  assert.equal(rec.failureReason, 'out of memory');
  await svc.ask(study.id, 1);
  assert.deepEqual(made[0]!.observations.map((o) => o.value), [null]);
});

test('service: a rebuilt optimizer (restart) sees finished trials as observations and open ones as pending', async () => {
  const { svc, study, made } = setup({ executor: 'external' });
  const [a, b] = await svc.ask(study.id, 2);
  svc.tell(study.id, a!.id, { value: 0.7 });
  svc.forget(study.id);
  await svc.ask(study.id, 1);
  const rebuilt = made[1]!;
  assert.deepEqual(rebuilt.observations, [{ params: a!.params, value: 0.7 }]);
  assert.equal(rebuilt.pendingAtAsk[0], 1, `trial ${b!.id} is still pending`);
});

test('service: report stores the curve, and the median pruner stops a trial below the median', async () => {
  const { svc, study } = setup({ executor: 'external', pruner: { type: 'median', minTrials: 2 } });
  const done = await svc.ask(study.id, 2);
  for (const [i, t] of done.entries()) {
    assert.deepEqual(svc.report(study.id, t.id, 10, 0.5 + 0.1 * i), { prune: false });
    svc.tell(study.id, t.id, { value: 0.6 + 0.1 * i });
  }
  const [bad] = await svc.ask(study.id, 1);
  assert.deepEqual(svc.report(study.id, bad!.id, 10, 0.1, { loss: 2 }), { prune: true });
  assert.deepEqual(svc.storage.getTrial(study.id, bad!.id)!.intermediate, [{ step: 10, value: 0.1, metrics: { loss: 2 } }]);
  assert.equal(svc.tell(study.id, bad!.id, { value: 0.1 }).state, 'PRUNED', 'a trial told to stop is recorded PRUNED');
});

test('service: views count states, pick the best, report baselines and final validation', async () => {
  const { svc, study } = setup();
  const [bn, pa] = svc.createTrials(study.id, [
    { state: 'WAITING', params: {}, schedule: { kind: 'batchnorm' }, label: 'batchnorm', seed: 1 },
    { state: 'WAITING', params: {}, schedule: { kind: 'paper' }, label: 'paper', seed: 2 },
  ]);
  svc.finishTrial(study.id, bn!.id, { state: 'COMPLETE', value: 0.8 });
  svc.finishTrial(study.id, pa!.id, { state: 'COMPLETE', value: 0.85 });
  const [t] = await svc.ask(study.id, 2);
  svc.finishTrial(study.id, t!.id, { state: 'COMPLETE', value: 0.9 });
  const [fin] = svc.createTrials(study.id, [{ state: 'RUNNING', params: {}, schedule: { kind: 'batchnorm' }, label: 'final:best', seed: 9 }]);
  svc.finishTrial(study.id, fin!.id, { state: 'COMPLETE', value: 0.99 });
  svc.setStudyAttr(study.id, 'finalValidation', { best: { values: [0.99], mean: 0.99, ci: [0.98, 1] }, trialId: t!.id });
  const view = svc.getStudyView(study.id);
  assert.deepEqual(view.counts, { WAITING: 1, RUNNING: 0, COMPLETE: 3, PRUNED: 0, FAIL: 0 }, 'final runs are not counted');
  assert.deepEqual(view.best, { trialId: t!.id, value: 0.9 }, 'a final:* run is never the best');
  assert.deepEqual(view.baselines, { batchnorm: 0.8, paper: 0.85 });
  assert.equal(view.budgetTrials, 10);
  assert.equal(view.totalSteps, 20);
  assert.equal(view.metric, 'valAccuracy');
  assert.equal(view.finalValidation?.trialId, t!.id);
  assert.deepEqual(svc.listStudies().map((s) => s.best), [{ trialId: t!.id, value: 0.9 }]);
});

test('service: subscribers get every trial change of their study, and can unsubscribe', async () => {
  const { svc, study } = setup({ executor: 'external' });
  const events: StudyEvent[] = [];
  const off = svc.subscribe(study.id, (e) => events.push(e));
  const [t] = await svc.ask(study.id, 1);
  svc.report(study.id, t!.id, 5, 0.5);
  svc.tell(study.id, t!.id, { value: 0.6 });
  off();
  await svc.ask(study.id, 1);
  assert.deepEqual(events.map((e) => e.type === 'trial' ? e.trial!.state : `study:${e.state}`), ['study:RUNNING', 'RUNNING', 'RUNNING', 'COMPLETE']);
});

test('service: concurrent tells to one trial from two processes\' connections: exactly one wins', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'svc-'));
  const file = join(dir, 'db.sqlite');
  const a = new StudyService(new SqliteStorage(file), fakeDeps());
  const b = new StudyService(new SqliteStorage(file), fakeDeps());
  try {
    const study = a.createStudy(baseConfig({ executor: 'external' }));
    const [t] = await a.ask(study.id, 1);
    const results = await Promise.allSettled([0.1, 0.2, 0.3, 0.4].map((v, i) => Promise.resolve().then(() => (i % 2 ? a : b).tell(study.id, t!.id, { value: v }))));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof ConflictError, String(r.reason));
    const winner = results.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<{ value: number }>;
    assert.equal(b.storage.getTrial(study.id, t!.id)!.value, winner.value.value);
  } finally {
    a.storage.close();
    b.storage.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
