// Without a race (finalValidation.race.candidates 1), the final runs go to the schedule the optimizer's model believes
// best (its posterior-mean recommendation), not the single best search value, which among noisy trials is the luckiest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { showText } from '../../../src/cli/study.js';
import { rankTrials } from '../../../src/shared/best.js';
import { roleKind } from '../../../src/shared/roles.js';
import { validateStudyConfig } from '../../../src/study/config.js';
import type { AskedTrial } from '../../../src/study/api_types.js';
import type { PickRecord } from '../../../src/study/evidence.js';
import type { StudyExport } from '../../../src/study/export.js';
import { runStudy } from '../../../src/study/runner.js';
import { createStudyService } from '../../../src/study/service/defaults.js';
import { MemoryStorage } from '../../../src/study/storage/index.js';

const worker = fileURLToPath(new URL('../../fixtures/workers/noisy_trainer.js', import.meta.url));

test('no race: the final runs, the report and the export take the optimizer\'s recommendation, recorded once', async () => {
  const storage = new MemoryStorage();
  const service = createStudyService(storage);
  const config = validateStudyConfig({
    // One worker: a GP's suggestions depend on which trials are pending, so one at a time keeps the run reproducible.
    name: 'unraced', seed: 1, workers: 1, scenario: { steps: 10, evalInterval: 10 }, budget: { trials: 20 }, optimizer: { type: 'gp' },
    // Only rmaxFinal is searched (the truth is a step in it, under seed noise of sd 0.02): the rest are fixed.
    space: {
      rmaxFinal: { type: 'float', low: 1, high: 5 }, warmup: { type: 'categorical', choices: [0.1] }, rmaxEndFrac: { type: 'categorical', choices: [0.8] },
      dmaxFinal: { type: 'categorical', choices: [5] }, dmaxEndFrac: { type: 'categorical', choices: [0.5] }, shape: { type: 'categorical', choices: ['linear'] },
      renormMomentum: { type: 'categorical', choices: [0.99] },
    },
    finalValidation: { seeds: 2, race: { candidates: 1 } },
  });
  const res = await runStudy(config, { service, workerFile: worker });
  assert.equal(res.state, 'COMPLETE');
  const id = res.study.id;
  const source = (await service.resolve(id)).attrs.finalValidationSource as PickRecord;
  // The model as any process rebuilds it from the stored trials (the running one's differs by its fits' warm starts).
  const rec = (await createStudyService(storage).recommendation(id))!;
  assert.ok(rec.sd !== null && rec.trialId !== null, JSON.stringify(rec));
  assert.equal(source.best, rec.trialId, 'the recorded pick is the model\'s');
  assert.match(source.pickedBy!, /^the optimizer's recommendation, no race: the best posterior mean among the tuned trials \(0\.\d{4} ± 0\.\d{4}; measured 0\.\d{4}\)$/);
  assert.ok(Math.abs(source.estimate! - rec.mean) < 1e-9);
  const trials = await service.listTrials(id);
  const picked = trials.find((t) => t.id === rec.trialId)!;
  assert.equal(roleKind(picked.role), 'search');
  const finals = trials.filter((t) => t.role.startsWith('final:best'));
  assert.equal(finals.length, 2);
  for (const f of finals) assert.deepEqual(f.schedule, picked.schedule, 'the final runs retrain the recommended schedule');
  const exp = (await service.bestSchedule(id)) as StudyExport;
  assert.equal(exp.tuned?.trialNumber ?? exp.trialNumber, picked.number);
  // The case this is for: the luckiest single value is another trial.
  const luckiest = rankTrials(trials.filter((t) => roleKind(t.role) === 'search'), 'maximize')[0]!;
  assert.notEqual(luckiest.id, picked.id, 'with these seeds the model and the best single value disagree');
  // Asking again (another process, a restarted coordinator) replays the recorded pick, whatever its model says now.
  assert.equal(await service.advanceEvidence(id), 'done');
  assert.deepEqual((await service.resolve(id)).attrs.finalValidationSource, source);
});

test('no race, and the model believes a baseline best: the final runs and the export still take its pick among the tuned trials', { timeout: 120_000 }, async () => {
  const storage = new MemoryStorage();
  const service = createStudyService(storage);
  try {
    const study = await service.createStudy(validateStudyConfig({
      name: 'baseline-on-top', executor: 'external', totalSteps: 100, seed: 3, budget: { trials: 12 },
      objective: { metric: 'valAccuracy', direction: 'maximize', bounds: [0, 1] }, optimizer: { type: 'gp', initialTrials: 4 },
      // The paper's schedule lies in the space (rmaxFinal 3, its ramps' ends as shares of the run after the warm-up),
      // so its value feeds the model.
      space: {
        rmaxFinal: { type: 'float', low: 1, high: 5 }, warmup: { type: 'categorical', choices: [0.1] }, rmaxEndFrac: { type: 'categorical', choices: [(0.8 - 0.1) / (1 - 0.1)] },
        dmaxFinal: { type: 'categorical', choices: [5] }, dmaxEndFrac: { type: 'categorical', choices: [(0.5 - 0.1) / (1 - 0.1)] }, shape: { type: 'categorical', choices: ['linear'] },
        renormMomentum: { type: 'categorical', choices: [0.99] },
      },
      finalValidation: { seeds: 2, race: { candidates: 1 } },
    }));
    // The paper's schedule (rmaxFinal 3) sits on the top of a smooth hill: every tuned schedule is a little worse.
    const tuned = (r: number) => 0.9 - 0.02 * (r - 3) ** 2;
    const value = (t: AskedTrial) => {
      if (t.schedule.kind === 'paper') return tuned(3);
      if (t.schedule.kind === 'batchnorm') return 0.8;
      return tuned((t.schedule as { rmaxFinal: number }).rmaxFinal);
    };
    let searchDone = false;
    for (let round = 0; round < 40; round++) {
      const asked = await service.ask(study.id, 1).catch((e: { code?: string }) => (e.code === 'BUDGET_EXHAUSTED' ? null : Promise.reject(e)));
      if (asked === null) break;
      if (!searchDone && asked.some((t) => roleKind(t.role) === 'final')) {
        searchDone = true;
        // Before any final run is told: the model's best observed point is the paper's baseline, not a tuned trial.
        const overall = (await createStudyService(storage).recommendation(study.id))!;
        const trials = await service.listTrials(study.id);
        assert.equal(trials.find((t) => t.id === overall.trialId)?.role, 'baseline:paper', `the case under test: ${JSON.stringify(overall)}`);
        const shown = showText(await service.getStudyView(study.id), { recommendation: overall, importance: null });
        assert.match(shown, new RegExp(`model     recommends trial #${overall.trialNumber}, paper \\(Ioffe 2017\\): predicted`), '`show` says the model\'s favourite is a baseline');
      }
      for (const t of asked) await service.tell(study.id, t.id, { value: value(t) });
    }
    assert.ok(searchDone, 'the study reached its final runs');
    const source = (await service.resolve(study.id)).attrs.finalValidationSource as PickRecord;
    assert.match(source.pickedBy!, /^the optimizer's recommendation, no race: the best posterior mean among the tuned trials/, 'not the single best value');
    const trials = await service.listTrials(study.id);
    const picked = trials.find((t) => t.id === source.best)!;
    assert.equal(roleKind(picked.role), 'search');
    for (const f of trials.filter((t) => t.role.startsWith('final:best'))) assert.deepEqual(f.schedule, picked.schedule);
    const exp = (await service.bestSchedule(study.id)) as StudyExport;
    const shown = trials.find((t) => t.number === exp.model?.trialNumber);
    assert.equal(shown && roleKind(shown.role), 'search', `the export's model note is about a tuned trial: ${JSON.stringify(exp.model)}`);
  } finally {
    service.close();
  }
});
