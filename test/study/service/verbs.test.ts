// The study-management verbs of the service (extend, stop, resume, rename, delete, enqueue) and what ask and tell hand an outside trainer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, ConflictError, NotFoundError, RequestError } from '../../../src/errors.js';
import { interpolateTable, scheduleAt, validateSchedule } from '../../../src/schedule/index.js';
import { StudyService } from '../../../src/study/service.js';
import { createStudyService } from '../../../src/study/service/defaults.js';
import { MemoryStorage } from '../../../src/study/storage/index.js';
import { BudgetExhaustedError, StudyStoppedError } from '../../../src/study/errors.js';
import { validateStudyConfig } from '../../../src/study/config.js';
import { paramsToSchedule } from '../../../src/study/schedule_space.js';
import { STOP_REQUEST, stopRequestedAt } from '../../../src/study/stop_request.js';
import { freshStore } from '../../fixtures/stores.js';
import { RecordingOptimizer, baseConfig, fakeDeps } from './fakes.js';

function fake() {
  const made: RecordingOptimizer[] = [];
  return { svc: new StudyService(new MemoryStorage(), fakeDeps(made), { watchIntervalMs: 0 }), made };
}

/** Verbs, not evidence: these studies opt out of baselines and the evidence phase (their own tests cover those). */
const external = (over: Record<string, unknown> = {}) =>
  validateStudyConfig({
    name: `e${Math.random().toString(36).slice(2, 8)}`, executor: 'external', objective: { metric: 'top1', direction: 'maximize' }, optimizer: 'random',
    baselines: false, finalValidation: { seeds: 0, race: { candidates: 1 } }, ...over,
  });

test('ask: each trial carries its momentum, run length and a table that agrees with scheduleAt; totalSteps from the ask or the study', async () => {
  const svc = createStudyService(new MemoryStorage());
  const s = await svc.createStudy(external({ totalSteps: 5000 }));
  const [t] = await svc.ask(s.name, 1);
  assert.equal(t!.totalSteps, 5000);
  assert.equal(t!.renormMomentum, t!.params.renormMomentum, 'the tuned momentum, as a field');
  assert.ok(t!.table.length >= 101);
  for (let step = 0; step <= 5000; step += 37) {
    const want = scheduleAt(t!, step);
    const got = interpolateTable(t!.table, step);
    for (const k of ['rmax', 'rmin', 'dmax'] as const) assert.ok(Math.abs(got[k] - want[k]) < 1e-3, `${k} at ${step}: table ${got[k]} vs scheduleAt ${want[k]}`);
  }
  const [u] = await svc.ask(s.id, 1, { totalSteps: 80_000 });
  assert.equal(u!.totalSteps, 80_000);
  assert.deepEqual(scheduleAt(u!, 40_000), scheduleAt(u!.schedule, 40_000, 80_000));
  const bare = await svc.createStudy(external());
  await assert.rejects(svc.ask(bare.id, 1), (e: unknown) => e instanceof RequestError && e.code === 'INVALID_ASK' && e.field === 'totalSteps' && /totalSteps/.test(e.message));
  assert.deepEqual(await svc.listTrials(bare.id), [], 'an ask refused for want of a run length creates nothing');
  assert.equal((await svc.ask(bare.id, 1, { totalSteps: 300 }))[0]!.table.at(-1)!.step, 300);
  const noMomentum = await svc.createStudy(external({ totalSteps: 100, space: { renormMomentum: null } }));
  assert.equal((await svc.ask(noMomentum.id, 1))[0]!.renormMomentum, 0.99, 'the default momentum when the study does not tune it');
});

test('report and tell: a trial is named by its number; values outside the bounds are refused with the request\'s own code', async () => {
  const { svc } = fake();
  const s = await svc.createStudy(external({ totalSteps: 100, objective: { metric: 'acc', direction: 'maximize', bounds: [0, 1] } }));
  const [a, b] = await svc.ask(s.id, 2);
  assert.deepEqual(await svc.report(s.name, { number: a!.number }, 10, 0.5), { prune: false });
  await assert.rejects(svc.report(s.id, { number: a!.number }, 20, 1.5), (e: unknown) => e instanceof RequestError && e.code === 'INVALID_REPORT' && e.field === 'value' && e.status === 400);
  await assert.rejects(svc.tell(s.id, { number: b!.number }, { value: 97.3 }), (e: unknown) => e instanceof RequestError && e.code === 'INVALID_TELL' && /percentage/.test(e.message));
  await assert.rejects(svc.tell(s.id, { number: 999 }, { value: 0.5 }), (e: unknown) => e instanceof NotFoundError && /#999/.test(e.message));
  assert.equal((await svc.tell(s.id, { number: b!.number }, { value: 1 })).state, 'COMPLETE', 'the bounds are inclusive');
  assert.equal((await svc.getTrial(s.id, a!.id)).intermediate.length, 1, 'the refused report stored nothing');
  // The hint fits the bounds: a loss below 0 is not a percentage, and bounds the study was given are not to be re-given.
  const loss = await svc.createStudy(external({ totalSteps: 100, objective: { metric: 'loss', direction: 'minimize' } }));
  const [l] = await svc.ask(loss.id, 1);
  await assert.rejects(svc.tell(loss.id, { number: l!.number }, { value: -1 }), (e: unknown) => e instanceof RequestError && /outside the bounds of loss, \[0, inf\]/.test(e.message) && /send loss itself, or create the study with objective.bounds/.test(e.message) && !/percentage/.test(e.message));
  const given = await svc.createStudy(external({ totalSteps: 100, objective: { metric: 'val.loss', direction: 'minimize', bounds: [0, null] } }));
  const [g] = await svc.ask(given.id, 1);
  await assert.rejects(svc.report(given.id, { number: g!.number }, 1, -1), (e: unknown) => e instanceof RequestError && /send val.loss inside the bounds this study was created with/.test(e.message));
  const open = await svc.createStudy(external({ totalSteps: 100, objective: { metric: 'error', direction: 'minimize' } }));
  const [c] = await svc.ask(open.id, 1);
  assert.equal((await svc.tell(open.id, { number: c!.number }, { value: -12.5 })).value, -12.5, 'a metric of its own has no bounds unless given');
});

test('extend raises the budget (never lowers it), and a study that had run out takes asks again', async () => {
  const { svc } = fake();
  const s = await svc.createStudy(external({ totalSteps: 100, budget: { trials: 2 } }));
  await svc.ask(s.id, 2);
  await assert.rejects(svc.ask(s.id, 1), BudgetExhaustedError);
  await assert.rejects(svc.extendStudy(s.id, { trials: 2 }), (e: unknown) => e instanceof ConfigError && e.field === 'trials' && /above/.test(e.message));
  await assert.rejects(svc.extendStudy(s.id, { timeMinutes: 5 }), (e: unknown) => e instanceof ConfigError && e.field === 'timeMinutes' && /no timeMinutes budget/.test(e.message));
  const after = await svc.extendStudy(s.name, { trials: 4 });
  assert.equal(after.budgetTrials, 4);
  assert.equal((await svc.ask(s.id, 5)).length, 2, 'two more, and no more');
  assert.deepEqual((await svc.resolve(s.id)).config.budget, { trials: 4 }, 'stored in the config');
  const unlimited = await svc.createStudy(external({ totalSteps: 100 }));
  await assert.rejects(svc.extendStudy(unlimited.id, { trials: 5 }), (e: unknown) => e instanceof ConfigError && /no trials budget/.test(e.message) && /nothing to extend: it has no budget at all/.test(e.message), 'not "extend timeMinutes instead", which says the same back');
  const timed = await svc.createStudy(external({ totalSteps: 100, budget: { timeMinutes: 5 } }));
  await assert.rejects(svc.extendStudy(timed.id, { trials: 5 }), /extend timeMinutes instead/);
  const local = await svc.createStudy(baseConfig({ budget: { trials: 3 } }));
  await svc.setStudyState(local.id, 'COMPLETE');
  assert.equal((await svc.extendStudy(local.id, { trials: 5 })).state, 'STOPPED', 'a complete local study becomes resumable by `run`');
});

test('an outside trainer\'s study that ended (every trial told, budget spent) takes asks again as soon as it is extended', async () => {
  const { svc } = fake();
  const s = await svc.createStudy(external({ totalSteps: 100, budget: { trials: 2 } }));
  for (const t of await svc.ask(s.id, 2)) await svc.tell(s.id, t.id, { value: 0.5 });
  await assert.rejects(svc.ask(s.id, 1), BudgetExhaustedError);
  assert.equal((await svc.resolve(s.id)).state, 'COMPLETE', 'nothing out and nothing left: done');
  assert.equal((await svc.extendStudy(s.id, { trials: 3 })).state, 'RUNNING');
  assert.equal((await svc.ask(s.id, 1)).length, 1, 'no resume needed');
});

test('stop refuses asks (409 STUDY_STOPPED) but keeps results of trials already out; resume; a local study resumes by running', async () => {
  const { svc } = fake();
  const s = await svc.createStudy(external({ totalSteps: 100 }));
  const [a] = await svc.ask(s.id, 1);
  assert.equal((await svc.stopStudy(s.id)).state, 'STOPPED');
  await assert.rejects(svc.ask(s.id, 1), (e: unknown) => e instanceof StudyStoppedError && e.status === 409 && e.code === 'STUDY_STOPPED' && /npx renorm-tune resume/.test(e.message));
  assert.equal((await svc.tell(s.id, a!.id, { value: 0.7 })).state, 'COMPLETE');
  assert.equal((await svc.listTrials(s.id)).length, 1);
  assert.equal((await svc.resumeStudy(s.name)).state, 'RUNNING');
  assert.equal((await svc.ask(s.id, 1)).length, 1);
  const local = await svc.createStudy(baseConfig());
  await svc.stopStudy(local.id);
  assert.equal((await svc.resumeStudy(local.id)).state, 'STOPPED', 'a local study is resumed by its run, not by resume');
  await svc.setStudyState(local.id, 'COMPLETE');
  await assert.rejects(svc.stopStudy(local.id), (e: unknown) => e instanceof ConflictError && /complete/.test(e.message));
});

for (const kind of ['memory', 'sqlite', 'postgres'] as const) {
  test(`a stop on request is told from a stop by a signal, until the study is resumed or runs again (${kind})`, async (t) => {
    const fresh = await freshStore(kind, 'stop_request');
    if ('unavailable' in fresh) return t.skip(fresh.unavailable);
    const svc = new StudyService(fresh.connections[0]!, fakeDeps([]), { watchIntervalMs: 0 });
    try {
      const held = async (id: string) => stopRequestedAt(await svc.resolve(id));
      const local = await svc.createStudy(baseConfig());
      await svc.setStudyState(local.id, 'RUNNING');
      await svc.setStudyState(local.id, 'STOPPED');
      assert.equal(await held(local.id), null, 'a run stopped by Ctrl-C or SIGTERM: a boot resumes it');
      const before = Date.now();
      await svc.stopStudy(local.id);
      const at = await held(local.id);
      assert.ok(at !== null && Date.parse(at) >= before - 1000, `stopped on request at ${at}`);
      assert.equal((await svc.resumeStudy(local.id)).state, 'STOPPED');
      assert.equal(await held(local.id), null, 'resume lifts it');
      await svc.stopStudy(local.id);
      await svc.setStudyState(local.id, 'RUNNING');
      assert.equal((await svc.resolve(local.id)).attrs[STOP_REQUEST], null, 'a run resuming it spends the request');
      await svc.setStudyState(local.id, 'STOPPED');
      assert.equal(await held(local.id), null, 'and its later stop by a signal is not one on request');
      // Stopping a study already stopped by a signal is a request too; an outside trainer's study is lifted and runs.
      await svc.stopStudy(local.id);
      assert.notEqual(await held(local.id), null);
      const outside = await svc.createStudy(external({ totalSteps: 100 }));
      await svc.stopStudy(outside.id);
      assert.notEqual(await held(outside.id), null);
      assert.equal((await svc.resumeStudy(outside.id)).state, 'RUNNING');
      assert.equal(stopRequestedAt(await svc.resolve(outside.id)), null);
    } finally {
      await fresh.close();
    }
  });
}

test('extend and rename at the same moment both land: each changes its own field of the config as stored', async () => {
  const svc = createStudyService(new MemoryStorage());
  const s = await svc.createStudy(external({ totalSteps: 100, budget: { trials: 10, timeMinutes: 30 } }));
  await Promise.all([svc.extendStudy(s.id, { trials: 50 }), svc.renameStudy(s.id, 'renamed-at-once'), svc.extendStudy(s.id, { timeMinutes: 60 })]);
  const after = await svc.resolve(s.id);
  assert.equal(after.name, 'renamed-at-once');
  assert.equal(after.config.name, 'renamed-at-once');
  assert.deepEqual(after.config.budget, { trials: 50, timeMinutes: 60 });
  await assert.rejects(svc.extendStudy(s.id, { trials: 40 }), (e: unknown) => e instanceof ConfigError && /above the current budget.trials = 50/.test(e.message));
  await assert.rejects(svc.extendStudy(s.id, { trials: 60.5 }), (e: unknown) => e instanceof ConfigError && e.field === 'budget.trials' && /integer/.test(e.message), 'whole trials, as in a new config');
  await assert.rejects(svc.extendStudy(s.id, { trials: 99_999_999 }), (e: unknown) => e instanceof ConfigError && e.field === 'budget.trials' && /100000/.test(e.message));
  assert.deepEqual((await svc.resolve(s.id)).config.budget, { trials: 50, timeMinutes: 60 }, 'a refused extend changes nothing');
});

test('rename changes the name everywhere it is stored and refuses a taken one; delete removes the study and its trials', async () => {
  const { svc } = fake();
  const s = await svc.createStudy(external({ totalSteps: 100 }));
  const other = await svc.createStudy(external({ totalSteps: 100 }));
  await svc.ask(s.id, 2);
  await assert.rejects(svc.renameStudy(s.id, other.name), (e: unknown) => e instanceof ConflictError);
  assert.equal((await svc.renameStudy(s.id, 'renamed')).name, 'renamed');
  assert.equal((await svc.resolve('renamed')).config.name, 'renamed', 'the stored config says the new name too');
  await assert.rejects(svc.resolve(s.name), NotFoundError);
  assert.deepEqual(await svc.deleteStudy('renamed'), { id: s.id, name: 'renamed', trials: 2 });
  await assert.rejects(svc.resolve(s.id), NotFoundError);
  assert.deepEqual(await svc.listTrials(s.id), []);
  assert.deepEqual((await svc.listStudies()).map((x) => x.id), [other.id]);
});

test('ask: a formula with no table at the ask\'s run length refuses the ask and hands nothing out; the trials wait for an ask it fits', async () => {
  const svc = createStudyService(new MemoryStorage());
  const s = await svc.createStudy(external({ totalSteps: 1000, budget: { trials: 4 } }));
  await svc.enqueue(s.id, { kind: 'formula', rmax: 'max(1, 3 - step / 500)', dmax: 'max(0, 5 - step / 200)' });
  await svc.enqueue(s.id, { kind: 'formula', rmax: '3 - step / 500', dmax: '0' }); // rmax >= 1 only up to step 1000
  await assert.rejects(svc.ask(s.id, 2, { totalSteps: 2000 }), (e: unknown) => e instanceof ConfigError && /schedule\.rmax/.test(e.message));
  const after = await svc.listTrials(s.id);
  assert.deepEqual(after.map((t) => `${t.role} ${t.state} ${t.retries}`), ['enqueued WAITING 0', 'enqueued WAITING 0'], 'nothing RUNNING under a lease nobody holds');
  const ok = await svc.ask(s.id, 2);
  assert.deepEqual(ok.map((t) => t.role), ['enqueued', 'enqueued'], 'the study\'s own run length gets both');
});

test('enqueue: a formula over step is checked at every run length the study trains at (a final run at 2x included); a study whose length comes with each ask refuses it', async () => {
  const svc = createStudyService(new MemoryStorage());
  const s = await svc.createStudy(external({ totalSteps: 1000, budget: { trials: 4 }, finalValidation: { seeds: 1, stepsMultipliers: [1, 2], race: { candidates: 1 } } }));
  // Valid for 1000 steps, not for a final run's 2000: it was accepted and then failed that run part-way.
  await assert.rejects(svc.enqueue(s.id, { kind: 'formula', rmax: '2 - step / 1000', dmax: '0' }),
    (e: unknown) => e instanceof ConfigError && e.field === 'schedule.rmax' && /of 2000/.test(e.message));
  await svc.enqueue(s.id, { kind: 'formula', rmax: 'max(1, 2 - step / 1000)', dmax: '0' });
  const open = await svc.createStudy(external({ budget: { trials: 4 } }));
  await assert.rejects(svc.enqueue(open.id, { kind: 'formula', rmax: '1', dmax: 'step / totalSteps' }),
    (e: unknown) => e instanceof ConfigError && e.field === 'schedule' && /comes with each trainer's ask/.test(e.message) && /write the formula over t/.test(e.message));
  await svc.enqueue(open.id, { kind: 'formula', rmax: '1 + t', dmax: '2 * t' });
  assert.deepEqual((await svc.listTrials(s.id)).length + (await svc.listTrials(open.id)).length, 2, 'nothing queued for the refused ones');
});

test('export: an external study without a run length of its own exports at the run length its trainers asked with', async () => {
  const svc = createStudyService(new MemoryStorage());
  const s = await svc.createStudy(external({ budget: { trials: 2 } }));
  await assert.rejects(svc.ask(s.id, 1), (e: unknown) => e instanceof RequestError && e.field === 'totalSteps');
  const asked = await svc.ask(s.id, 2, { totalSteps: 2000 });
  for (const [i, t] of asked.entries()) await svc.tell(s.id, t, { value: 0.5 + 0.1 * i });
  const exp = await svc.bestSchedule(s.id);
  assert.equal(exp.totalSteps, 2000);
  assert.equal(exp.table.at(-1)!.step, 2000);
});

test('enqueue: the schedule is handed out before any new suggestion, with the point of the space it equals; it counts toward the budget', async () => {
  const svc = createStudyService(new MemoryStorage());
  const s = await svc.createStudy(external({ totalSteps: 1000, budget: { trials: 3 } }));
  const mine = { kind: 'ramp' as const, shape: 'cosine' as const, warmup: 0.2, rmaxFinal: 2.5, rmaxEnd: 0.6, dmaxFinal: 3, dmaxEnd: 0.5 };
  const q = await svc.enqueue(s.id, mine, { renormMomentum: 0.95 });
  assert.deepEqual([q.role, q.state], ['enqueued', 'WAITING']);
  const want = { warmup: 0.2, rmaxFinal: 2.5, rmaxEndFrac: 0.5, dmaxFinal: 3, dmaxEndFrac: 0.375, shape: 'cosine', renormMomentum: 0.95 };
  assert.deepEqual(Object.keys(q.params).sort(), Object.keys(want).sort());
  for (const [k, v] of Object.entries(want)) assert.ok(typeof v === 'string' ? q.params[k] === v : Math.abs((q.params[k] as number) - v) < 1e-12, `${k}: ${q.params[k]}`);
  const back = paramsToSchedule(q.params).schedule;
  for (const k of ['warmup', 'rmaxEnd', 'dmaxEnd', 'rmaxFinal', 'dmaxFinal'] as const) assert.ok(Math.abs(back[k] - mine[k]) < 1e-12, `the point maps back to the schedule (${k})`);
  const formula = await svc.enqueue(s.id, { kind: 'formula', rmax: '1 + t', dmax: '2 * t' });
  assert.deepEqual(formula.params, {}, 'a formula has no point in the ramp space: it is evaluated, the optimizer cannot place it');
  const asked = await svc.ask(s.id, 5);
  const [first, second] = asked;
  assert.deepEqual([first!.number, first!.role, first!.renormMomentum], [q.number, 'enqueued', 0.95]);
  assert.deepEqual(first!.schedule, mine, 'handed out exactly as queued');
  assert.equal(second!.number, formula.number);
  assert.deepEqual(asked.map((t) => t.role), ['enqueued', 'enqueued', 'search'], 'the two enqueued trials counted toward budget.trials = 3');
  await assert.rejects(svc.enqueue(s.id, { kind: 'paper' }), BudgetExhaustedError);
  // The optimizer learns from the enqueued point like from its own (and skips the formula without failing).
  await svc.tell(s.id, { number: first!.number }, { value: 0.9 });
  await svc.tell(s.id, { number: second!.number }, { value: 0.5 });
  assert.equal((await svc.gpView(s.id)).available, false, 'the random optimizer has no model to show, but syncing the study did not throw');
  const narrow = await svc.createStudy(external({ totalSteps: 1000, space: { rmaxFinal: { type: 'float', low: 1, high: 2 } } }));
  assert.deepEqual((await svc.enqueue(narrow.id, mine)).params, {}, 'outside the (narrowed) space: the schedule alone');
  const fixed = await svc.createStudy(external({ totalSteps: 1000, space: { renormMomentum: null } }));
  await assert.rejects(svc.enqueue(fixed.id, mine, { renormMomentum: 0.9 }), (e: unknown) => e instanceof ConfigError && e.field === 'renormMomentum');
  // Fine on the validator's grid (t = i / 1000), below 1 half-way between: the table's sampling finds it at enqueue, not at the ask.
  const sly = validateSchedule({ kind: 'formula', rmax: '1.5 - abs(sin(1000 * pi * t))', dmax: '0' });
  const before = (await svc.listTrials(narrow.id)).length;
  await assert.rejects(svc.enqueue(narrow.id, sly), (e: unknown) => e instanceof ConfigError && e.field === 'schedule.rmax');
  assert.equal((await svc.listTrials(narrow.id)).length, before, 'nothing queued');
});

test('enqueue on a local study queues it behind nothing but the baselines, and revives a complete study', async () => {
  const { svc } = fake();
  const s = await svc.createStudy(baseConfig({ budget: { trials: 10 } }));
  const q = await svc.enqueue(s.id, { kind: 'paper', warmup: 0.05 });
  assert.deepEqual((await svc.listTrials(s.id, { states: ['WAITING'] })).map((t) => t.role), ['baseline:batchnorm', 'baseline:paper', 'enqueued']);
  assert.equal(q.number, 2);
  await svc.setStudyState(s.id, 'COMPLETE');
  await svc.enqueue(s.id, { kind: 'batchnorm' });
  assert.equal((await svc.resolve(s.id)).state, 'STOPPED', '`run` picks it up instead of only showing results');
});
