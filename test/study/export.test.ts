// Schedule export: which trial wins, what the file holds, that it matches its JSON Schema and round-trips through scheduleAt.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { ConflictError } from '../../src/errors.js';
import { scheduleAt, validateExportedSchedule } from '../../src/schedule/index.js';
import type { RampSchedule, ScheduleSpec } from '../../src/schedule/types.js';
import { MemoryStorage } from '../../src/study/storage/index.js';
import { buildExport } from '../../src/study/export.js';
import { validateStudyConfig } from '../../src/study/config.js';
import type { Direction, Storage, TrialRecord, TrialRole } from '../../src/study/types.js';
import { finalSeeds } from '../../src/study/final.js';
import { summarizeFinal } from '../../src/study/final_summary.js';

const schema = JSON.parse(readFileSync(new URL('../../../configs/schemas/schedule-export.schema.json', import.meta.url), 'utf8')) as object;
const schemaCheck = new Ajv({ allErrors: true, strict: false, validateFormats: false }).compile(schema);

const ramp: RampSchedule = { kind: 'ramp', shape: 'linear', warmup: 0.1, rmaxFinal: 3, rmaxEnd: 0.8, dmaxFinal: 5, dmaxEnd: 0.5 };

/** A study with the two baselines, tuned trials of the given values, a failed one and a final-validation run that must not count. */
async function study(values: { tuned: number[]; batchnorm?: number | null; paper?: number | null }, direction: Direction = 'maximize', metric = 'valAccuracy') {
  const s: Storage = new MemoryStorage();
  const config = validateStudyConfig({ name: 'exp', scenario: { dataset: 'mnist', steps: 1000 }, budget: { trials: 10 }, objective: { metric }, backend: 'wasm' });
  const st = await s.createStudy({ name: 'exp', direction, config: config as unknown as Record<string, unknown> });
  const finish = async (schedule: ScheduleSpec, role: TrialRole, value: number | null, params: Record<string, number | string> = {}) => {
    const [t] = await s.createTrials(st.id, [{ state: 'RUNNING', role, params, schedule, seed: 100 + (role === 'search' ? 0 : role.length), lease: { owner: 'me', seconds: 60 } }]);
    return value === null
      ? s.finishTrial(st.id, t!.id, { state: 'FAIL', failureReason: 'diverged' })
      : s.finishTrial(st.id, t!.id, { state: 'COMPLETE', value, metrics: { backend: 'cpu', steps: 1000 } });
  };
  if (values.batchnorm !== undefined) await finish({ kind: 'batchnorm' }, 'baseline:batchnorm', values.batchnorm);
  if (values.paper !== undefined) await finish({ kind: 'paper' }, 'baseline:paper', values.paper);
  const tuned = [];
  for (const [i, v] of values.tuned.entries()) tuned.push(await finish({ ...ramp, rmaxFinal: 2 + i }, 'search', v, { rmaxFinal: 2 + i, renormMomentum: 0.9 + i / 100 }));
  await finish(ramp, 'search', null);
  await finish(ramp, 'final:best', direction === 'maximize' ? 99 : -99);
  return { s, st: (await s.getStudy(st.id))!, trials: await s.listTrials(st.id), tuned };
}

/** The example verdicts README.md quotes: the Python loop's `# e.g. "..."` after printing one, and the prose's *"..."*. */
function readmeVerdicts(): [string, string][] {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const loop = /print\(study\.best_schedule\(\)\["verdict"\]\)\s*((?:#.*\n)+)/.exec(readme);
  const comment = loop?.[1]!.split('\n').map((l) => l.replace(/^#\s?/, '')).join(' ') ?? '';
  const inLoop = /e\.g\. "(.*)"/.exec(comment)?.[1];
  const prose = /says so, e\.g\. \(the MNIST showcase below\) \*"([^"]*)"\*/.exec(readme)?.[1];
  assert.ok(inLoop && prose, 'README.md should keep its two example verdicts (the Python loop\'s and the one in prose)');
  return [['(the Python loop)', inLoop], ['(the MNIST showcase verdict)', prose]];
}

describe('buildExport', () => {
  it('exports the best tuned trial with baselines, provenance and a schema-valid body', async () => {
    const { st, trials, tuned } = await study({ batchnorm: 0.9, paper: 0.91, tuned: [0.92, 0.95, 0.93] });
    const e = buildExport(st, trials, { packageVersion: '0.1.0', exportedAt: '2026-01-01T00:00:00.000Z' });
    assert.equal(e.trialId, tuned[1]!.id, 'the 0.95 trial wins; the final:* run scored 99 but is not a candidate');
    assert.equal(e.value, 0.95);
    assert.equal(e.winner, 'tuned');
    assert.equal(e.role, 'search');
    assert.equal(e.trialNumber, tuned[1]!.number);
    assert.deepEqual(e.baselines, { batchnorm: 0.9, paper: 0.91 });
    assert.deepEqual(e.schedule, { ...ramp, rmaxFinal: 3 });
    assert.equal(e.totalSteps, 1000);
    assert.equal(e.renormMomentum, 0.91);
    assert.deepEqual(e.objective, { metric: 'valAccuracy', direction: 'maximize' });
    assert.deepEqual(e.provenance, {
      study: 'exp', studyId: st.id, scenario: st.config.scenario as Record<string, unknown>, seed: 100, backend: 'cpu',
      packageVersion: '0.1.0', exportedAt: '2026-01-01T00:00:00.000Z',
    });
    assert.equal(e.resolved.warmupSteps, 100);
    assert.equal(e.resolved.rmaxEndStep, 800);
    assert.equal(e.resolved.dmaxEndStep, 500);
    assert.ok(schemaCheck(e), JSON.stringify(schemaCheck.errors));
  });

  it('carries the device the winning trial trained on, when its trainer said; the schema knows only GPU and CPU', async () => {
    const { st, trials, tuned } = await study({ batchnorm: 0.9, paper: 0.91, tuned: [0.92, 0.95, 0.93] });
    const on = (device: string) => trials.map((t) => (t.id === tuned[1]!.id ? { ...t, metrics: { ...t.metrics, device } } : t));
    const e = buildExport(st, on('GPU'), { packageVersion: '0.1.0' });
    assert.equal(e.provenance.backend, 'cpu');
    assert.equal(e.provenance.device, 'GPU');
    assert.ok(schemaCheck(e), JSON.stringify(schemaCheck.errors));
    assert.equal(schemaCheck({ ...e, provenance: { ...e.provenance, device: 'TPU' } }), false);
    assert.equal('device' in buildExport(st, on('elsewhere'), { packageVersion: '0.1.0' }).provenance, false, 'a device it does not know is left out');
  });

  it('has a table that scheduleAt(export, step) reproduces, and that matches the ramp computed by hand', async () => {
    const { st, trials } = await study({ batchnorm: 0.9, paper: 0.91, tuned: [0.92, 0.95] });
    const e = JSON.parse(JSON.stringify(buildExport(st, trials, { packageVersion: 'x' })));
    const back = validateExportedSchedule(e);
    assert.equal(e.table.length, 101);
    assert.deepEqual([e.table[0].step, e.table[100].step], [0, 1000]);
    for (const row of e.table) {
      const c = scheduleAt(back, row.step);
      assert.deepEqual({ step: row.step, ...c }, row, `step ${row.step}`);
    }
    // Independent reference for rmaxFinal 3: at step 450, rmax is halfway up its 100..800 ramp (1 + 2 * 0.5 = 2),
    // dmax 7/8 up its 100..500 ramp (5 * 0.875); before warm-up ends it is plain BatchNorm.
    const at450 = e.table.find((r: { step: number }) => r.step === 450);
    assert.ok(Math.abs(at450.rmax - 2) < 1e-12 && Math.abs(at450.rmin - 0.5) < 1e-12 && Math.abs(at450.dmax - 4.375) < 1e-12, JSON.stringify(at450));
    assert.deepEqual(e.table.find((r: { step: number }) => r.step === 50), { step: 50, rmax: 1, rmin: 1, dmax: 0 });
    assert.deepEqual(scheduleAt(back, 5000), { rmax: 3, rmin: 1 / 3, dmax: 5 }, 'past the end the final values hold');
  });

  it('lets a baseline win and says so', async () => {
    const { st, trials } = await study({ batchnorm: 0.97, paper: 0.91, tuned: [0.92] });
    const e = buildExport(st, trials, { packageVersion: 'x' });
    assert.equal(e.winner, 'batchnorm');
    assert.equal(e.role, 'baseline:batchnorm');
    assert.deepEqual(e.schedule, { kind: 'batchnorm' });
    assert.ok(e.table.every((r) => r.rmax === 1 && r.rmin === 1 && r.dmax === 0));
    assert.ok(schemaCheck(e), JSON.stringify(schemaCheck.errors));
  });

  it('minimizes loss, breaks ties toward the earlier trial, and reports a missing baseline as null', async () => {
    const { st, trials, tuned } = await study({ paper: 0.5, tuned: [0.3, 0.2, 0.2, 0.4] }, 'minimize', 'loss');
    const e = buildExport(st, trials, { packageVersion: 'x' });
    assert.equal(e.trialId, tuned[1]!.id);
    assert.deepEqual(e.objective, { metric: 'loss', direction: 'minimize' });
    assert.deepEqual(e.baselines, { batchnorm: null, paper: 0.5 });
  });

  it('refuses with ConflictError when nothing has completed', async () => {
    const { st, trials } = await study({ tuned: [] });
    assert.throws(() => buildExport(st, trials, { packageVersion: 'x' }), (e: unknown) => e instanceof ConflictError && /no completed trial/.test(e.message));
  });

  it('the schema rejects a broken export', async () => {
    const { st, trials } = await study({ tuned: [0.9] });
    const e = buildExport(st, trials, { packageVersion: 'x' }) as unknown as Record<string, unknown>;
    assert.equal(schemaCheck({ ...e, version: 2 }), false);
    assert.equal(schemaCheck({ ...e, schedule: { kind: 'ramp', shape: 'linear' } }), false);
    assert.equal(schemaCheck({ ...e, table: [{ step: 0, rmax: 0.5, rmin: 1, dmax: 0 }, { step: 1, rmax: 1, rmin: 1, dmax: 0 }] }), false);
  });
});

describe('buildExport: the verdict', () => {
  /** Stores a paired final-validation report for `best` against both baselines, with per-seed values. */
  async function withFinal(s: Storage, studyId: string, best: { id: number; number: number }, arms: Record<'batchnorm' | 'paper' | 'best', number[]>) {
    const seeds = finalSeeds(0, arms.best.length);
    const trials = (Object.entries(arms) as [string, number[]][]).flatMap(([arm, values]) =>
      values.map((value, i) => ({ ...fakeTrial(`final:${arm}` as TrialRole, seeds[i]!), value })));
    const report = summarizeFinal(trials, {
      studySeed: 0, seeds: seeds.length, stepsMultipliers: [1], totalSteps: 1000, metric: 'testAccuracy', direction: 'maximize', range: [0, 1],
      best: { trialId: best.id, trialNumber: best.number, pickedBy: 'race' }, bestRunsToCome: 0,
    });
    await s.setStudyAttr(studyId, 'finalValidation', report);
    await s.setStudyAttr(studyId, 'finalValidationSource', { best: best.id, trialNumber: best.number, pickedBy: 'race' });
    return (await s.getStudy(studyId))!;
  }

  it('a baseline whose search run failed is still compared in final validation, and recommended when not beaten (its search value null)', async () => {
    // A passing failure of BatchNorm's search run left it out of final validation, and the tuned schedule won over
    // a baseline it was never compared with.
    const { s, st, trials, tuned } = await study({ batchnorm: null, paper: 0.5, tuned: [0.8, 0.82] });
    assert.equal(trials.find((t) => t.role === 'baseline:batchnorm')!.state, 'FAIL');
    const rec = await withFinal(s, st.id, tuned[1]!, { batchnorm: [0.95, 0.96, 0.94], paper: [0.5, 0.52, 0.51], best: [0.8, 0.81, 0.82] });
    const e = buildExport(rec, trials, { packageVersion: 'x' });
    assert.equal(e.winner, 'batchnorm', e.verdict);
    assert.equal(e.evidence, 'paired-final');
    assert.deepEqual(e.schedule, { kind: 'batchnorm' });
    assert.equal(e.value, null, 'its search run measured nothing');
    assert.match(e.verdict, /was not shown to beat BatchNorm/);
    assert.ok(schemaCheck(e), JSON.stringify(schemaCheck.errors));
  });

  it('without final validation, a baseline whose search run failed is said to be uncompared', async () => {
    const { st, trials } = await study({ batchnorm: null, paper: 0.5, tuned: [0.8] });
    const e = buildExport(st, trials, { packageVersion: 'x' });
    assert.equal(e.evidence, 'search');
    assert.match(e.verdict, /; BatchNorm was not compared \(its search run failed\)$/);
  });

  it('paired final validation that beats both baselines: the tuned schedule, with the comparisons and the verdict in words', async () => {
    const { s, st, trials, tuned } = await study({ batchnorm: 0.9, paper: 0.91, tuned: [0.92, 0.95] });
    const rec = await withFinal(s, st.id, tuned[1]!, { batchnorm: [0.85, 0.86, 0.84], paper: [0.9, 0.92, 0.9], best: [0.92, 0.94, 0.93] });
    const e = buildExport(rec, trials, { packageVersion: 'x' });
    assert.equal(e.winner, 'tuned');
    assert.equal(e.evidence, 'paired-final');
    assert.equal(e.trialId, tuned[1]!.id);
    assert.deepEqual(e.comparisons!.map((c) => [c.b, c.verdict, c.n]), [['paper', 'better', 3], ['batchnorm', 'better', 3]]);
    assert.match(e.verdict, /^the tuned schedule \(#\d+\) is better than the paper schedule: \+2\.33 pts \(95% CI \+[\d.]+ to \+[\d.]+ pts, 3 paired seeds\); better than BatchNorm/);
    assert.equal(e.tuned, undefined, 'the recommendation is the tuned schedule itself');
    assert.ok(schemaCheck(e), JSON.stringify(schemaCheck.errors));
  });

  it('not shown to beat a baseline: that baseline is recommended, plainly, with the tuned schedule kept for reference', async () => {
    const { s, st, trials, tuned } = await study({ batchnorm: 0.9, paper: 0.91, tuned: [0.92, 0.95] });
    // Better than BatchNorm on every seed; against the paper one seed up, one down: the interval spans 0.
    const rec = await withFinal(s, st.id, tuned[1]!, { batchnorm: [0.85, 0.86, 0.84], paper: [0.9, 0.92, 0.91], best: [0.91, 0.91, 0.915] });
    const e = buildExport(rec, trials, { packageVersion: 'x' });
    assert.equal(e.winner, 'paper');
    assert.deepEqual(e.schedule, { kind: 'paper' });
    assert.equal(e.role, 'baseline:paper');
    assert.equal(e.value, 0.91);
    assert.match(e.verdict, /was not shown to beat the paper schedule \(.*indistinguishable from the paper schedule.*\); recommending the paper schedule instead/);
    // With its momentum: the schedule alone does not reproduce a trial that tuned it.
    assert.deepEqual(e.tuned, { trialId: tuned[1]!.id, trialNumber: tuned[1]!.number, value: 0.95, schedule: { ...ramp, rmaxFinal: 3 }, renormMomentum: 0.91 });
    assert.ok(schemaCheck(e), JSON.stringify(schemaCheck.errors));
    // The README quotes verdicts of this kind (its Python loop prints one): they must read like this real one, numbers aside.
    const shape = (v: string) => v.replace(/\s+/g, ' ').replace(/#\d+/g, '#N').replace(/[+−-]?\d+(\.\d+)?/g, 'N');
    for (const [where, quoted] of readmeVerdicts()) assert.equal(shape(quoted), shape(e.verdict), `README.md ${where} quotes a verdict the code never writes`);
  });

  it('no baseline measured: no winner declared, and the export says so', async () => {
    const { st, trials } = await study({ tuned: [0.9, 0.95] });
    const e = buildExport(st, trials, { packageVersion: 'x' });
    assert.equal(e.winner, null);
    assert.equal(e.evidence, 'none');
    assert.match(e.verdict, /^no baseline measured \(the baselines did not complete\)/);
    assert.ok(schemaCheck(e), JSON.stringify(schemaCheck.errors));
    const optedOut = { ...st, config: { ...st.config, baselines: false } };
    assert.match(buildExport(optedOut, trials, { packageVersion: 'x' }).verdict, /no baseline measured \(the study opted out with baselines: false\)/);
  });

  it('without final validation: the search\'s single runs decide, and the verdict says how little that is', async () => {
    const { st, trials } = await study({ batchnorm: 0.9, paper: 0.91, tuned: [0.92] });
    const e = buildExport(st, trials, { packageVersion: 'x' });
    assert.equal(e.winner, 'tuned');
    assert.equal(e.evidence, 'search');
    assert.match(e.verdict, /scored best in the search \(tuned #\d+ 0\.9200, BatchNorm 0\.9000, the paper schedule 0\.9100\): single validation runs, no interval, no final validation ran/);
  });

  it('a final validation stored before pairing gives no verdict: the search decides and the verdict says why', async () => {
    const { s, st, trials } = await study({ batchnorm: 0.9, paper: 0.91, tuned: [0.92] });
    await s.setStudyAttr(st.id, 'finalValidation', { best: { values: [0.9, 0.91], mean: 0.905, ci: [0.84, 0.97] }, paper: { values: [0.9, 0.9], mean: 0.9, ci: [0.9, 0.9] }, trialId: 3 });
    const e = buildExport((await s.getStudy(st.id))!, trials, { packageVersion: 'x' });
    assert.equal(e.evidence, 'search');
    assert.match(e.verdict, /predates pairing/);
  });
});

function fakeTrial(role: TrialRole, seed: number): TrialRecord {
  return {
    id: seed, studyId: 's', number: 0, state: 'COMPLETE', role, params: {}, schedule: { kind: 'batchnorm' }, value: null, failureReason: null, seed,
    metrics: null, intermediate: [], lease: null, retries: 0, claims: 0, pruneRequested: false, createdAt: '', startedAt: null, finishedAt: null,
  };
}
