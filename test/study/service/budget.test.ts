import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StudyService } from '../../../src/study/service.js';
import { BudgetExhaustedError } from '../../../src/study/service/budget.js';
import { MemoryStorage } from '../../../src/study/storage/index.js';
import { ConflictError } from '../../../src/errors.js';
import { RecordingOptimizer, baseConfig, fakeDeps } from './fakes.js';

function setup(over: Record<string, unknown>) {
  const made: RecordingOptimizer[] = [];
  const svc = new StudyService(new MemoryStorage(), fakeDeps(made));
  return { svc, study: svc.createStudy(baseConfig(over)), made };
}

test('budget: an external study gets what is left of budget.trials, then 409 BUDGET_EXHAUSTED', async () => {
  const { svc, study, made } = setup({ executor: 'external', budget: { trials: 4 } });
  assert.equal((await svc.ask(study.id, 3)).length, 3);
  const [last, ...more] = await svc.ask(study.id, 3);
  assert.ok(last, 'one trial was left');
  assert.equal(more.length, 0, 'a partial grant: only what remains');
  const before = JSON.stringify(svc.listTrials(study.id));
  await assert.rejects(svc.ask(study.id, 1), (e: unknown) =>
    e instanceof BudgetExhaustedError && e instanceof ConflictError && e.status === 409 && e.code === 'BUDGET_EXHAUSTED' &&
    e.message.includes(study.name) && /budget\.trials/.test(e.message));
  assert.equal(JSON.stringify(svc.listTrials(study.id)), before, 'a refused ask writes nothing');
  assert.deepEqual(made[0]!.pendingAtAsk, [0, 3], 'the optimizer was not asked for the refused trial');
});

test('budget: finished and failed trials count, final:* reruns do not', async () => {
  const { svc, study } = setup({ executor: 'external', budget: { trials: 3 } });
  const [a, b] = await svc.ask(study.id, 2);
  svc.tell(study.id, a!.id, { value: 0.5 });
  svc.tell(study.id, b!.id, { failed: 'diverged' });
  svc.createTrials(study.id, [{ state: 'RUNNING', params: {}, schedule: { kind: 'batchnorm' }, label: 'final:best', seed: 1 }]);
  assert.equal((await svc.ask(study.id, 5)).length, 1);
  await assert.rejects(svc.ask(study.id, 1), BudgetExhaustedError);
});

test('budget: concurrent asks never grant more than the budget in total', async () => {
  const { svc, study } = setup({ executor: 'external', budget: { trials: 5 } });
  const results = await Promise.allSettled(Array.from({ length: 4 }, () => svc.ask(study.id, 2)));
  const granted = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
  assert.equal(granted.length, 5);
  assert.deepEqual(results.map((r) => (r.status === 'fulfilled' ? r.value.length : 'refused')), [2, 2, 1, 'refused']);
  assert.equal(svc.listTrials(study.id).length, 5);
});

test('budget: a local study\'s ask is not capped here (the runner sizes its asks from the same budget)', async () => {
  const { svc, study } = setup({ budget: { trials: 3 } });
  assert.equal((await svc.ask(study.id, 5)).length, 5);
});

test('budget: an external study with only a time budget is not capped by trials', async () => {
  const { svc, study } = setup({ executor: 'external', budget: { timeMinutes: 1 } });
  assert.equal((await svc.ask(study.id, 20)).length, 20);
});
