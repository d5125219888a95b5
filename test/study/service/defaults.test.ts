// The production wiring: the service with the real GP optimizer, the schedule space mapping and the export.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStudyService, studySpace } from '../../../src/study/service/defaults.js';
import { MemoryStorage } from '../../../src/study/storage/index.js';
import { baselineTrials } from '../../../src/study/baselines.js';
import { createOptimizer } from '../../../src/optimizer/index.js';
import { paramsToSchedule } from '../../../src/study/schedule_space.js';
import { validateStudyConfig } from '../../../src/study/config.js';
import { ConfigError } from '../../../src/errors.js';
import { baseConfig, rawConfig } from './fakes.js';

test('service + real GP optimizer: ask/tell rounds, then the GP view and the export of the best', async () => {
  const svc = createStudyService(new MemoryStorage());
  const study = await svc.createStudy(baseConfig({ executor: 'external', optimizer: { type: 'gp', initialTrials: 3 }, seed: 3 }));
  const f = (p: Record<string, unknown>) => 0.9 - 0.01 * (Number(p.rmaxFinal) - 3) ** 2 - 0.002 * (Number(p.dmaxFinal) - 4) ** 2;
  for (let round = 0; round < 7; round++) {
    const asked = await svc.ask(study.id, 1);
    for (const t of asked) {
      // The two baselines come first (exact schedules, with their equivalent points of the space as params).
      if (t.role === 'search') assert.deepEqual(t.schedule, paramsToSchedule(t.params).schedule, 'stored schedule = params mapped by the schedule space');
      await svc.tell(study.id, t.id, { value: f(t.params) });
    }
  }
  const view = await svc.gpView(study.id);
  assert.equal(view.available, true, view.reason);
  assert.deepEqual(view.slices!.map((s) => s.name).sort(), Object.keys(studySpace(baseConfig())).sort());
  const best = (await svc.getStudyView(study.id)).best!;
  const exp = await svc.bestSchedule(study.id);
  assert.equal(exp.format, 'renorm-tune/schedule');
  assert.equal(exp.trialId, best.trialId);
  assert.equal(exp.value, best.value);
});

test('GP view: a best trial outside the space (an enqueued formula, params only its momentum) is passed over for the best point of the space', async () => {
  const svc = createStudyService(new MemoryStorage());
  const study = await svc.createStudy(baseConfig({ executor: 'external', optimizer: { type: 'gp', initialTrials: 3 }, seed: 3 }));
  await svc.enqueue(study.id, { kind: 'formula', rmax: '1 + 2 * t', dmax: '3 * t' }, { renormMomentum: 0.95 });
  for (let round = 0; round < 7; round++) {
    for (const t of await svc.ask(study.id, 1)) await svc.tell(study.id, t, { value: t.role === 'enqueued' ? 0.99 : 0.5 + 0.01 * round });
  }
  const view = await svc.gpView(study.id);
  assert.equal(view.available, true, view.reason);
  assert.deepEqual(Object.keys(view.center!).sort(), Object.keys(studySpace(baseConfig())).sort());
});

test('config: an invalid space override is a ConfigError naming the parameter (validated at the edge, before the service)', () => {
  assert.throws(() => validateStudyConfig(rawConfig({ space: { rmaxFinall: 2 } })), (e: unknown) => e instanceof ConfigError && /space/.test(e.field));
});

test('baselines: their equivalent points lie in the default space and the real optimizer accepts them', async () => {
  const config = baseConfig();
  const [bn, paper] = baselineTrials(studySpace(config), 0.99);
  assert.ok(Object.keys(bn!.params).length > 0 && Object.keys(paper!.params).length > 0);
  // Same clipping as the paper schedule: warm-up 0.1, rmax 3 reached at 0.8 of the run, dmax 5 at 0.5.
  const s = paramsToSchedule(paper!.params).schedule;
  assert.ok(Math.abs(s.warmup - 0.1) < 1e-12 && Math.abs(s.rmaxEnd - 0.8) < 1e-12 && Math.abs(s.dmaxEnd - 0.5) < 1e-12 && s.rmaxFinal === 3 && s.dmaxFinal === 5);
  const opt = createOptimizer('gp', { space: studySpace(config), direction: 'maximize' });
  await opt.addObservation(bn!.params, 0.8);
  await opt.addObservation(paper!.params, 0.85);
  // A space that fixes warmup at 0.3 cannot hold them: they are left out instead of failing the study.
  const narrow = baseConfig({ space: { warmup: 0.3 } });
  assert.deepEqual(baselineTrials(studySpace(narrow), 0.99).map((t) => t.params), [{}, {}]);
  // A space that fixes the momentum has the baselines train with it too (they trained at 0.99 while every tuned trial
  // trained at 0.9), inside the space or out of it.
  const fixed = baselineTrials(studySpace(baseConfig({ space: { renormMomentum: 0.9 } })), 0.99);
  assert.deepEqual(fixed.map((t) => t.params.renormMomentum), [0.9, 0.9]);
  assert.deepEqual(fixed.map((t) => paramsToSchedule(t.params).renormMomentum), [0.9, 0.9]);
  assert.deepEqual(baselineTrials(studySpace(baseConfig({ space: { warmup: 0.3, renormMomentum: 0.9 } })), 0.99).map((t) => t.params), [{ renormMomentum: 0.9 }, { renormMomentum: 0.9 }]);
});
