// Studies whose truth is known (a fake trainer: tuning helps, does nothing, or hurts): the verdicts and the export must say so.
//
// Each case is one study with a fixed seed, so it passes or fails the same way every run. With fresh seeds, the
// "equal" case would wrongly call the tuned schedule better about 2.5% of the time (one side of a 95% interval);
// the "better"/"worse" cases have a true gap of 2 pts against a paired interval of about ±0.8 pts, so they would
// miss it far less than 1% of the time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { rankTrials, baselineValues } from '../../../src/shared/best.js';
import type { FinalValidationReport } from '../../../src/shared/evidence.js';
import { validateStudyConfig } from '../../../src/study/config.js';
import type { StudyExport } from '../../../src/study/export.js';
import { runStudy } from '../../../src/study/runner.js';
import { createStudyService } from '../../../src/study/service/defaults.js';
import { MemoryStorage } from '../../../src/study/storage/index.js';

const worker = fileURLToPath(new URL('../../fixtures/workers/noisy_trainer.js', import.meta.url));

async function study(name: string, rmaxFinal: { low: number; high: number }, seed: number) {
  const service = createStudyService(new MemoryStorage());
  const config = validateStudyConfig({
    name, seed, workers: 2, scenario: { steps: 10, evalInterval: 10 }, budget: { trials: 10 }, optimizer: { type: 'random' },
    space: { rmaxFinal: { type: 'float', ...rmaxFinal } },
    finalValidation: { seeds: 5, race: { candidates: 3, seeds: 2 } },
  });
  const res = await runStudy(config, { service, workerFile: worker });
  assert.equal(res.state, 'COMPLETE');
  const stored = await service.resolve(res.study.id);
  const trials = await service.listTrials(res.study.id);
  return { fv: stored.attrs.finalValidation as FinalValidationReport, exp: (await service.bestSchedule(res.study.id)) as StudyExport, trials };
}

const verdicts = (fv: FinalValidationReport) => Object.fromEntries(fv.comparisons.map((c) => [c.b, c.verdict]));

test('truth: tuning helps by 2 pts: better than both baselines, and the export recommends the tuned schedule', async () => {
  const { fv, exp } = await study('better', { low: 4.2, high: 5 }, 1);
  assert.deepEqual(verdicts(fv), { paper: 'better', batchnorm: 'better' });
  const vsPaper = fv.comparisons.find((c) => c.b === 'paper')!;
  assert.ok(Math.abs(vsPaper.meanDiff! - 0.02) < 0.008, `mean paired difference ${vsPaper.meanDiff}`);
  // The arms' own intervals overlap (a seed moves every arm by ~2 pts), yet the paired difference is clear.
  assert.ok(fv.arms.best!.ci![0] < fv.arms.paper!.ci![1], 'the unpaired bands overlap');
  assert.equal(exp.winner, 'tuned');
  assert.equal(exp.evidence, 'paired-final');
  assert.equal(exp.schedule.kind, 'ramp');
  assert.match(exp.verdict, /^the tuned schedule \(#\d+\) is better than the paper schedule: \+\d\.\d\d pts \(95% CI \+\d\.\d\d to \+\d\.\d\d pts, 5 paired seeds\); better than BatchNorm: .*, on the test set$/);
});

test('truth: tuned trials are noise around the paper schedule: no tuned winner, the paper schedule is recommended', async () => {
  const { fv, exp, trials } = await study('equal', { low: 2.2, high: 3.8 }, 3);
  // The trap: among 8 noisy tuned values the luckiest tops the paper's single value (the old rule said "tuned").
  const bestTuned = rankTrials(trials.filter((t) => t.role === 'search'), 'maximize')[0]!;
  assert.ok(bestTuned.value! > baselineValues(trials).paper!, 'precondition: the single best noisy value beats the paper baseline');
  assert.equal(verdicts(fv).paper, 'indistinguishable');
  assert.equal(verdicts(fv).batchnorm, 'better');
  assert.notEqual(exp.winner, 'tuned');
  assert.equal(exp.winner, 'paper');
  assert.deepEqual(exp.schedule, { kind: 'paper' });
  assert.equal(exp.role, 'baseline:paper');
  assert.match(exp.verdict, /was not shown to beat the paper schedule .*indistinguishable from the paper schedule.*recommending the paper schedule instead/);
  assert.equal(exp.tuned?.trialId, fv.best?.trialId, 'the tuned schedule is still in the export, for reference');
});

test('truth: tuning hurts by 2 pts against the paper (still beats BatchNorm): worse, and the paper schedule is recommended', async () => {
  const { fv, exp } = await study('worse', { low: 1.1, high: 1.8 }, 2);
  assert.deepEqual(verdicts(fv), { paper: 'worse', batchnorm: 'better' });
  assert.equal(exp.winner, 'paper');
  assert.match(exp.verdict, /worse than the paper schedule/);
});
