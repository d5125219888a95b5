// The runner and the study verbs: an enqueued schedule is trained next, `stop` from elsewhere winds a run down, extend revives a finished study.
import { countsTowardBudget } from '../../src/shared/roles.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { runStudy } from '../../src/study/runner.js';
import { StudyService } from '../../src/study/service.js';
import { MemoryStorage } from '../../src/study/storage/index.js';
import { baseConfig, fakeDeps } from './service/fakes.js';

const fakeTrainer = fileURLToPath(new URL('../fixtures/workers/fake_trainer.js', import.meta.url));

function setup() {
  return new StudyService(new MemoryStorage(), fakeDeps(), { watchIntervalMs: 0 });
}

test('runner: a schedule enqueued before the run is trained right after the baselines, before any suggestion', async () => {
  const service = setup();
  const config = baseConfig({ budget: { trials: 4 }, workers: 1 });
  const study = await service.createStudy(config);
  const mine = { kind: 'ramp' as const, shape: 'exponential' as const, warmup: 0.05, rmaxFinal: 2, rmaxEnd: 0.5, dmaxFinal: 1, dmaxEnd: 0.5 };
  await service.enqueue(study.id, mine);
  const res = await runStudy(config, { service, workerFile: fakeTrainer });
  assert.equal(res.state, 'COMPLETE');
  const trials = await service.listTrials(study.id);
  const order = [...trials].sort((a, b) => a.startedAt!.localeCompare(b.startedAt!) || a.number - b.number).map((t) => t.role);
  assert.deepEqual(order, ['baseline:batchnorm', 'baseline:paper', 'enqueued', 'search']);
  const q = trials.find((t) => t.role === 'enqueued')!;
  assert.deepEqual([q.state, q.schedule], ['COMPLETE', mine]);
});

test('runner: `stop` from another process ends the search; running trials finish, no final validation; running again resumes', async () => {
  const service = setup();
  const config = baseConfig({ budget: { trials: 8 }, workers: 1, finalValidation: { seeds: 1 } });
  let stopped = false;
  const first = await runStudy(config, {
    service, workerFile: fakeTrainer,
    onEvent: (e) => {
      if (!stopped && e.type === 'trial' && e.trial.state === 'COMPLETE') {
        stopped = true;
        void service.stopStudy(e.studyId);
      }
    },
  });
  assert.equal(first.state, 'STOPPED');
  assert.equal((await service.resolve(first.study.id)).state, 'STOPPED');
  const after = await service.listTrials(first.study.id);
  assert.ok(after.length < 8, `the search stopped early (${after.length} trials)`);
  assert.equal(after.filter((t) => t.role.startsWith('final:') || t.role.startsWith('race:')).length, 0, 'no evidence phase for an unfinished search');
  assert.equal(after.filter((t) => t.state === 'RUNNING').length, 0);
  const second = await runStudy(config, { service, workerFile: fakeTrainer });
  assert.equal(second.state, 'COMPLETE');
  assert.equal((await service.listTrials(first.study.id)).filter((t) => countsTowardBudget(t.role)).length, 8, 'the budget counts search trials and baselines (race and final runs come on top)');
});

test('runner: `stop` from another process during the final validation ends the run STOPPED: the running run finishes, no new one starts, no summary', async () => {
  const service = setup();
  const config = baseConfig({ budget: { trials: 3 }, workers: 1, finalValidation: { seeds: 2 } });
  let stopped = false;
  const first = await runStudy(config, {
    service, workerFile: fakeTrainer,
    onEvent: (e) => {
      if (!stopped && e.type === 'phase' && e.phase === 'final') {
        stopped = true;
        void service.stopStudy(e.studyId);
      }
    },
  });
  assert.equal(first.state, 'STOPPED');
  const study = await service.resolve(first.study.id);
  assert.equal(study.state, 'STOPPED', 'the stop is kept, not overwritten by COMPLETE');
  assert.equal(study.attrs.finalValidation, undefined, 'no summary of an unfinished evidence phase');
  const evidence = (await service.listTrials(first.study.id)).filter((t) => !countsTowardBudget(t.role));
  assert.ok(evidence.filter((t) => t.state === 'COMPLETE').length <= 1, `at most the run already going finished: ${evidence.map((t) => `${t.role}:${t.state}`).join(' ')}`);
  assert.equal(evidence.filter((t) => t.state === 'RUNNING').length, 0);
  const second = await runStudy(config, { service, workerFile: fakeTrainer });
  assert.equal(second.state, 'COMPLETE', 'running again finishes the evidence phase');
  assert.notEqual((await service.resolve(first.study.id)).attrs.finalValidation, undefined);
});

test('runner: after extend, a complete study runs the extra trials', async () => {
  const service = setup();
  const config = baseConfig({ budget: { trials: 3 }, workers: 1 });
  const first = await runStudy(config, { service, workerFile: fakeTrainer });
  assert.equal(first.state, 'COMPLETE');
  await service.extendStudy(first.study.id, { trials: 5 });
  const second = await runStudy(config.name, { service, workerFile: fakeTrainer });
  assert.equal(second.state, 'COMPLETE');
  assert.equal((await service.getStudyView(first.study.id)).counts.COMPLETE, 5);
});

test('runner: the study deleted from elsewhere mid-run ends the run with an error that says so, not "not found"', async () => {
  const service = setup();
  const config = baseConfig({ budget: { trials: 8 }, workers: 1, finalValidation: { seeds: 0 } });
  let deleted = false;
  await assert.rejects(runStudy(config, {
    service, workerFile: fakeTrainer,
    onEvent: (e) => {
      if (!deleted && e.type === 'trial' && e.trial.state === 'COMPLETE') {
        deleted = true;
        void service.deleteStudy(e.studyId);
      }
    },
  }), (err: Error & { code?: string; status?: number }) => {
    assert.match(err.message, new RegExp(`^study '${config.name}' \\(\\w+\\) was deleted while this run held it: its trials are gone`));
    assert.equal(err.code, 'NOT_FOUND');
    assert.equal(err.status, 404);
    return true;
  });
  assert.equal(deleted, true);
  await assert.rejects(service.resolve(config.name), /not found/);
});
