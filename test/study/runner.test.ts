import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { hostname } from 'node:os';
import { trainedBy } from '../../src/shared/trained_on.js';
import { runStudy, type RunnerEvent } from '../../src/study/runner.js';
import { StudyService } from '../../src/study/service.js';
import { MemoryStorage } from '../../src/study/storage/index.js';
import type { TrialRecord } from '../../src/study/types.js';
import { comparisonSentence, type FinalValidationReport } from '../../src/shared/evidence.js';
import { rankTrials } from '../../src/shared/best.js';
import { countsTowardBudget, roleKind } from '../../src/shared/roles.js';
import { finalSeed, raceSeed } from '../../src/study/seeds.js';
import { baseConfig, fakeDeps } from './service/fakes.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/workers/${name}.js`, import.meta.url));

function setup() {
  const storage = new MemoryStorage();
  return { storage, service: new StudyService(storage, fakeDeps(), { watchIntervalMs: 0 }) };
}

const byRole = (trials: TrialRecord[], role: string) => trials.filter((t) => t.role === role);

test('runner: baselines first, budget counts them, a race of the top tuned trials, then paired final validation on the test set', async () => {
  const { service } = setup();
  const phases: string[] = [];
  const res = await runStudy(baseConfig({ budget: { trials: 6 }, workers: 2, finalValidation: { seeds: 2, race: { candidates: 3, seeds: 2 } } }), {
    service, workerFile: fixture('fake_trainer'),
    onEvent: (e: RunnerEvent) => e.type === 'phase' && phases.push(e.phase),
  });
  assert.equal(res.state, 'COMPLETE');
  assert.deepEqual(phases, ['search', 'final', 'done']);
  const trials = await service.listTrials(res.study.id);
  const search = trials.filter((t) => countsTowardBudget(t.role));
  assert.equal(search.length, 6, 'trial budget includes the 2 baselines');
  assert.deepEqual(search.slice(0, 2).map((t) => t.role), ['baseline:batchnorm', 'baseline:paper'], 'baselines are trials 0 and 1');
  assert.ok(search.every((t) => t.state === 'COMPLETE'));
  // Each finished trial names the run that trained it (its lease owner, kept once the lease is gone).
  assert.ok(trials.every((t) => t.lease === null && new RegExp(`^${hostname()}:${process.pid}:run-[0-9a-f]{14}$`).test(trainedBy(t.metrics) ?? '')), JSON.stringify(trials.map((t) => t.metrics)));
  // Fake trainer: batchnorm 0.8, paper 0.85 (x (1 - e^-4)); test-set runs score 0.01 lower.
  assert.ok(Math.abs(byRole(trials, 'baseline:batchnorm')[0]!.value! - 0.8 * (1 - Math.exp(-4))) < 1e-3);

  // The race: the top 3 tuned trials by search value, each on the same 2 fresh seeds, on the validation set.
  const tuned = rankTrials(search.filter((t) => t.role === 'search'), 'maximize');
  const race = trials.filter((t) => roleKind(t.role) === 'race');
  assert.deepEqual([...new Set(race.map((t) => t.role))].sort(), tuned.slice(0, 3).map((t) => `race:${t.number}`).sort());
  assert.equal(race.length, 6);
  assert.ok(race.every((t) => t.state === 'COMPLETE' && (t.metrics as { testAccuracy?: number }).testAccuracy === undefined), 'raced on validation, never the test set');
  for (const c of tuned.slice(0, 3)) assert.deepEqual(race.filter((t) => t.role === `race:${c.number}`).map((t) => t.seed), [raceSeed(0, 0), raceSeed(0, 1)], 'common race seeds');
  assert.ok(race.every((t) => trials.find((x) => x.role === 'search' && JSON.stringify(x.schedule) === JSON.stringify(t.schedule))), 'a race run re-measures a tuned schedule');

  for (const which of ['batchnorm', 'paper', 'best']) {
    const runs = byRole(trials, `final:${which}`);
    assert.equal(runs.length, 2, `2 final runs of ${which}`);
    assert.ok(runs.every((t) => t.state === 'COMPLETE' && (t.metrics as { testAccuracy?: number }).testAccuracy === t.value), 'scored on the test set');
    assert.deepEqual(runs.map((t) => t.seed), [finalSeed(0, 0), finalSeed(0, 1)], 'paired: every arm on the same seeds');
  }
  const study = await service.resolve(res.study.id);
  const fv = study.attrs.finalValidation as FinalValidationReport;
  const source = study.attrs.finalValidationSource as { best: number; pickedBy: string };
  assert.equal(fv.version, 2);
  assert.deepEqual(fv.seeds, [finalSeed(0, 0), finalSeed(0, 1)]);
  assert.equal(fv.pending, 0);
  assert.deepEqual(fv.arms.batchnorm!.values, byRole(trials, 'final:batchnorm').map((t) => t.value), 'values aligned with the seeds');
  assert.ok(fv.arms.batchnorm!.ci![0] <= fv.arms.batchnorm!.mean! && fv.arms.batchnorm!.mean! <= fv.arms.batchnorm!.ci![1]);
  assert.ok(fv.arms.best!.ci![1] <= 1, 'accuracy intervals stay inside [0, 1]');
  assert.equal(fv.best!.trialId, source.best);
  assert.match(source.pickedBy, /^race: the top 3 tuned trials/);
  const bestSchedule = JSON.stringify(trials.find((t) => t.id === source.best)!.schedule);
  assert.ok(byRole(trials, 'final:best').every((t) => JSON.stringify(t.schedule) === bestSchedule), 'the race winner is what final validation retrains');
  // The fake trainer's tuned schedules sit near its optimum (0.9 > paper 0.85 > BatchNorm 0.8), and a seed moves every
  // arm alike: the same difference on both seeds, which two seeds cannot tell from luck (meanInterval's sign-test rule).
  assert.deepEqual(fv.comparisons.map((c) => [c.a, c.b, c.verdict, c.n]), [['best', 'paper', 'indistinguishable', 2], ['best', 'batchnorm', 'indistinguishable', 2]]);
  assert.ok(fv.comparisons.every((c) => c.meanDiff! > 0 && c.ci === null));
  assert.match(comparisonSentence(fv.comparisons[0]!, true), /^indistinguishable from the paper schedule: \+\d\.\d\d pts on each of 2 paired seeds, too few seeds to tell with no spread to measure$/);
  for (const c of fv.comparisons) {
    const own = fv.arms[c.b]!.values;
    assert.ok(Math.abs(c.meanDiff! - fv.arms.best!.values.reduce((s2: number, v, i) => s2 + (v! - own[i]!), 0) / 2) < 1e-12, 'meanDiff = mean of the per-seed differences');
  }
  assert.equal((await service.getStudyView(res.study.id)).counts.COMPLETE, 6, 'race and final runs stay out of the counts');
});

test('runner: Ctrl-C stops cleanly (nothing left RUNNING) and a rerun resumes without touching COMPLETE trials', async () => {
  const { service } = setup();
  const config = baseConfig({ budget: { trials: 8 }, workers: 2, finalValidation: { seeds: 0, race: { candidates: 1 } }, scenario: { steps: 60, evalInterval: 5 } });
  const ac = new AbortController();
  let completed = 0;
  const first = await runStudy(config, {
    service, workerFile: fixture('fake_trainer'), signal: ac.signal,
    onEvent: (e) => e.type === 'trial' && e.trial.state === 'COMPLETE' && ++completed === 3 && ac.abort(),
  });
  assert.equal(first.state, 'STOPPED');
  const before = await service.listTrials(first.study.id, { withIntermediate: true });
  assert.equal(before.filter((t) => t.state === 'RUNNING').length, 0, 'cancelled trials went back to WAITING');
  assert.ok(before.every((t) => t.retries === 0), 'a clean stop is not a retry');
  assert.ok(before.filter((t) => t.state === 'COMPLETE').length >= 3);
  assert.ok(before.filter((t) => t.state === 'COMPLETE').length < 8);

  const second = await runStudy(config, { service, workerFile: fixture('fake_trainer') });
  assert.equal(second.state, 'COMPLETE');
  assert.equal(second.resumed, true);
  const after = await service.listTrials(first.study.id, { withIntermediate: true });
  assert.equal(after.length, 8, 'budget respected across runs');
  assert.ok(after.every((t) => t.state === 'COMPLETE'));
  for (const t of before.filter((t) => t.state === 'COMPLETE')) assert.deepEqual(after.find((a) => a.id === t.id), t, `trial ${t.id} unchanged`);
});

test('runner: a crash of the run itself (an ask throws while trials train) hands the running trials back, in both isolations', async () => {
  for (const isolation of ['thread', 'process'] as const) {
    const { service } = setup();
    service.ask = async () => {
      await new Promise((r) => setTimeout(r, 300));
      throw new Error('optimizer blew up');
    };
    const prev = process.env.RENORM_TEST_STEP_MS;
    process.env.RENORM_TEST_STEP_MS = '100'; // the baselines train for 2 s: the ask throws while they run
    try {
      await assert.rejects(runStudy(baseConfig({ budget: { trials: 6 }, workers: 3 }), { service, isolation, workerFile: fixture('counting_trainer') }), /optimizer blew up/);
    } finally {
      if (prev === undefined) delete process.env.RENORM_TEST_STEP_MS;
      else process.env.RENORM_TEST_STEP_MS = prev;
    }
    const [study] = await service.listStudies();
    assert.equal(study!.state, 'STOPPED', isolation);
    const trials = await service.listTrials(study!.id);
    assert.deepEqual(trials.filter((t) => t.state !== 'WAITING').map((t) => `#${t.number} ${t.state}`), [], `${isolation}: every trial is back in the queue, none RUNNING under a dead lease`);
    assert.ok(trials.every((t) => t.retries === 0), 'a hand-back is not a retry');
  }
});

test('runner: a worker crash or a NaN result fails that trial with the reason and the study goes on', async () => {
  for (const [worker, reason] of [['exits', /worker died/], ['nan', /trainer returned valAccuracy = NaN/]] as const) {
    const { service } = setup();
    const owner = `${hostname()}:${process.pid}:run-failing`;
    const res = await runStudy(baseConfig({ budget: { trials: 3 }, workers: 1, finalValidation: { seeds: 1 } }), { service, workerFile: fixture(worker), owner });
    assert.equal((await service.resolve(res.study.id)).attrs.finalValidation, undefined, 'no report without a final run');
    assert.equal(res.state, 'COMPLETE');
    const trials = await service.listTrials(res.study.id);
    assert.equal(trials.length, 3, 'no final runs: nothing completed to validate');
    for (const t of trials) {
      assert.equal(t.state, 'FAIL');
      assert.match(t.failureReason ?? '', reason);
      assert.equal(trainedBy(t.metrics), owner, 'a failed trial names who trained it too');
    }
  }
});

test('runner: the median pruner stops poor trials (recorded PRUNED with their curve); baselines are never pruned', async () => {
  const { service } = setup();
  const res = await runStudy(
    baseConfig({ budget: { trials: 7 }, workers: 1, finalValidation: { seeds: 0 }, pruner: { type: 'median', minTrials: 2 }, scenario: { steps: 30, evalInterval: 5 } }),
    { service, workerFile: fixture('fake_trainer') },
  );
  const trials = await service.listTrials(res.study.id, { withIntermediate: true });
  const pruned = trials.filter((t) => t.state === 'PRUNED');
  assert.ok(pruned.length > 0, `some fake proposals score below the baselines: ${trials.map((t) => `${t.role}:${t.state}:${t.value}`).join(' ')}`);
  for (const t of pruned) {
    assert.equal(t.role, 'search');
    assert.ok(t.intermediate.length > 0 && t.intermediate.length < 6, 'stopped before the end');
    assert.equal(t.value, t.intermediate[t.intermediate.length - 1]!.value, 'value = last reported');
  }
  assert.ok(byRole(trials, 'baseline:batchnorm').every((t) => t.state === 'COMPLETE'));
});

test('runner: seedsPerTrial averages the seeds', async () => {
  const { service } = setup();
  const res = await runStudy(baseConfig({ budget: { trials: 3 }, workers: 2, seedsPerTrial: 2, finalValidation: { seeds: 0 } }), { service, workerFile: fixture('fake_trainer') });
  for (const t of await service.listTrials(res.study.id)) {
    const sv = (t.metrics as { seedValues: number[] }).seedValues;
    assert.equal(sv.length, 2);
    assert.notEqual(sv[0], sv[1], 'different seeds');
    assert.ok(Math.abs(t.value! - (sv[0]! + sv[1]!) / 2) < 1e-12);
  }
});

test('runner: an external study is refused with a pointer to the REST API', async () => {
  const { service } = setup();
  await assert.rejects(runStudy(baseConfig({ executor: 'external' }), { service }), /driven by external workers/);
});

test('runner: a spent time budget stops asking (the baselines still run)', async () => {
  const { service } = setup();
  const res = await runStudy(baseConfig({ budget: { timeMinutes: 0.0001 }, workers: 2, finalValidation: { seeds: 0 } }), { service, workerFile: fixture('fake_trainer') });
  assert.equal(res.state, 'COMPLETE');
  assert.deepEqual((await service.listTrials(res.study.id)).map((t) => t.role), ['baseline:batchnorm', 'baseline:paper']);
  assert.ok((await service.resolve(res.study.id)).searchSeconds > 0.006, 'search time is kept in the store for a resume');
});

test('runner: isolation process trains in child processes, one per device with --devices, never in the runner itself', async () => {
  const { service } = setup();
  const res = await runStudy(baseConfig({ budget: { trials: 4 }, workers: 1, finalValidation: { seeds: 0, race: { candidates: 1 } } }), {
    service, workerFile: fixture('env_probe'), isolation: 'process', devices: ['0', '1'],
  });
  assert.equal(res.state, 'COMPLETE');
  const trials = await service.listTrials(res.study.id);
  assert.equal(trials.length, 4);
  const ran = trials.map((t) => t.metrics as { pid?: number; visibleDevices?: string; allowGrowth?: string });
  assert.deepEqual(new Set(ran.map((m) => m.visibleDevices)), new Set(['0', '1']), 'both devices trained: workers follows --devices');
  assert.ok(ran.every((m) => typeof m.pid === 'number' && m.pid !== process.pid), JSON.stringify(ran));
  assert.ok(ran.every((m) => m.allowGrowth === 'true'));
});

test('runner: a study deleted (by another process) while its trials train stops them at the next heartbeat, not at their end, and the run says the study was deleted', async () => {
  const storage = new MemoryStorage();
  const service = new StudyService(storage, fakeDeps(), { watchIntervalMs: 0 });
  const other = new StudyService(storage, fakeDeps(), { watchIntervalMs: 0 });
  // 20,000 steps of 2 ms: 40 s per trial; the heartbeat comes every leaseSeconds / 3 = 1.7 s.
  const study = await service.createStudy(baseConfig({ scenario: { steps: 20_000, evalInterval: 50 }, budget: { trials: 4 }, workers: 2, leaseSeconds: 5 }));
  let lastStep = 0;
  const run = runStudy(study.id, {
    service, workerFile: fixture('fake_trainer'),
    onEvent: (e: RunnerEvent) => {
      if (e.type === 'progress') lastStep = Math.max(lastStep, e.progress.step);
    },
  });
  while (lastStep === 0) await new Promise((r) => setTimeout(r, 20));
  await other.deleteStudy(study.id);
  await assert.rejects(run, (err: Error & { code?: string }) => err.code === 'NOT_FOUND' && /was deleted while this run held it/.test(err.message));
  assert.ok(lastStep < 20_000, `the trials were stopped, not trained to their end (last step ${lastStep})`);
});
