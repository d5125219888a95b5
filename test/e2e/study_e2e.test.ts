// End to end, nothing faked: the runner, the real GP optimizer, the real trial worker training TF.js models on MNIST.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countsTowardBudget } from '../../src/shared/roles.js';
import { loadDataset } from '../../src/data/index.js';
import type { Scenario } from '../../src/train/scenario.js';
import { validateStudyConfig } from '../../src/study/config.js';
import { runStudy } from '../../src/study/runner.js';
import { createStudyService } from '../../src/study/service/defaults.js';
import { defaultScheduleSpace } from '../../src/study/schedule_space.js';
import { MemoryStorage } from '../../src/study/storage/index.js';
import type { FinalValidationReport } from '../../src/shared/evidence.js';
import type { StudyExport } from '../../src/study/export.js';

test('a small real study: baselines, GP proposals inside the schedule space, trained by workers/trial.js, a race, final validation on the test set at 1x and 2x the run length', { timeout: 300_000 }, async () => {
  const config = validateStudyConfig({
    name: 'e2e',
    scenario: {
      dataset: 'mnist', model: { type: 'mlp', hidden: [16] }, batchSize: 16, sampler: { type: 'classes', k: 2 },
      steps: 40, evalInterval: 20, validationSize: 200, evalSize: 200, trainSubset: 2000,
    },
    budget: { trials: 5 },
    workers: 2,
    seed: 1,
    optimizer: { type: 'gp', initialTrials: 2 },
    finalValidation: { seeds: 1, stepsMultipliers: [1, 2], race: { candidates: 2, seeds: 1 } },
  });
  const service = createStudyService(new MemoryStorage());
  const res = await runStudy(config, { service, loadDataset: (s) => loadDataset((s as unknown as Scenario).dataset) });
  assert.equal(res.state, 'COMPLETE');
  const trials = await service.listTrials(res.study.id, { withIntermediate: true });
  const search = trials.filter((t) => countsTowardBudget(t.role));
  assert.deepEqual(search.map((t) => t.role), ['baseline:batchnorm', 'baseline:paper', 'search', 'search', 'search']);
  for (const t of search) {
    assert.equal(t.state, 'COMPLETE', `${t.role} #${t.number}: ${t.failureReason}`);
    assert.ok(t.value! > 0.2 && t.value! <= 1, `trained past chance: ${t.value}`);
    assert.equal(t.intermediate.length, 2, 'reports at steps 20 and 40');
    assert.equal(t.metrics?.backend, 'wasm');
  }
  for (const t of search.filter((x) => x.role === 'search')) {
    for (const [name, spec] of Object.entries(defaultScheduleSpace)) {
      const v = t.params[name];
      if (spec.type === 'categorical') assert.ok(spec.choices.includes(v as string), `${name} = ${v}`);
      else assert.ok(typeof v === 'number' && v >= spec.low && v <= spec.high, `${name} = ${v} outside [${spec.low}, ${spec.high}]`);
    }
    assert.equal(t.schedule.kind, 'ramp');
  }
  const race = trials.filter((t) => t.role.startsWith('race:'));
  assert.equal(race.length, 2, 'the top 2 tuned trials, one more validation seed each');
  assert.ok(race.every((t) => t.state === 'COMPLETE' && t.metrics?.testAccuracy === undefined), 'the race never sees the test set');
  const finals = trials.filter((t) => t.role.startsWith('final:'));
  assert.equal(finals.length, 6, '3 arms x 1 seed x 2 run lengths');
  assert.ok(finals.every((t) => t.state === 'COMPLETE' && typeof t.metrics?.testAccuracy === 'number'), finals.map((t) => `${t.role}:${t.state}:${t.failureReason}`).join(' '));
  for (const t of finals) assert.equal(t.metrics?.steps, t.role.endsWith('@x2') ? 80 : 40, `${t.role} trained scenario.steps x its multiplier`);
  const view = await service.getStudyView(res.study.id);
  const fv = view.finalValidation as FinalValidationReport;
  assert.deepEqual(fv.byMultiplier.map((g) => [g.multiplier, g.steps]), [[1, 40], [2, 80]]);
  // One seed gives no interval, so no verdict can be drawn and no tuned winner declared.
  assert.ok(fv.comparisons.every((c) => c.n === 1 && c.ci === null && c.verdict === 'indistinguishable'));
  const exp = (await service.bestSchedule(res.study.id)) as StudyExport;
  assert.equal(exp.evidence, 'paired-final');
  assert.notEqual(exp.winner, 'tuned');
  assert.match(exp.verdict, /was not shown to beat/);
});