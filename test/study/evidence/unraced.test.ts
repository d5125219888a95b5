// Without a race (finalValidation.race.candidates 1), the final runs go to the schedule the optimizer's model believes
// best (its posterior-mean recommendation), not the single best search value, which among noisy trials is the luckiest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { rankTrials } from '../../../src/shared/best.js';
import { roleKind } from '../../../src/shared/roles.js';
import { validateStudyConfig } from '../../../src/study/config.js';
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
  assert.match(source.pickedBy!, /^the optimizer's recommendation, no race: the best posterior mean among the observed points \(0\.\d{4} ± 0\.\d{4}; measured 0\.\d{4}\)$/);
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
