// Warm starts: an earlier study's finished trials become observations of a new study's optimizer, marked as such, free, never the best; incompatible sources are refused before anything is written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/errors.js';
import { showText } from '../../src/cli/study.js';
import { validateStudyConfig } from '../../src/study/config.js';
import { StudyService } from '../../src/study/service.js';
import { createStudyService } from '../../src/study/service/defaults.js';
import { MemoryStorage } from '../../src/study/storage/index.js';
import { mergeScheduleSpace } from '../../src/study/schedule_space.js';
import { warmStartTrials } from '../../src/study/warm_start.js';
import { RecordingOptimizer, fakeDeps } from './service/fakes.js';

const ext = (name: string, over: Record<string, unknown> = {}) =>
  validateStudyConfig({
    name, executor: 'external', totalSteps: 1000, objective: { metric: 'top1', direction: 'maximize', bounds: [0, 1] }, optimizer: 'random',
    // Warm starts, not evidence: no baselines or evidence phase (their own tests cover those).
    baselines: false, finalValidation: { seeds: 0, race: { candidates: 1 } }, ...over,
  });

/** A finished earlier study: 4 told values, one failure, one still running. */
async function source(storage: MemoryStorage) {
  const svc = createStudyService(storage);
  const s = await svc.createStudy(ext('earlier'));
  const trials = await svc.ask(s.id, 6);
  for (const [i, t] of trials.slice(0, 4).entries()) await svc.tell(s.id, t.id, { value: 0.5 + i / 10 });
  await svc.tell(s.id, trials[4]!.id, { failed: 'diverged' });
  return { svc, s, trials };
}

test('the finished trials of the earlier study are copied as warm-start trials: free, never the best, fed to the new optimizer', async () => {
  const storage = new MemoryStorage();
  const { s: old, trials: oldTrials } = await source(storage);
  const made: RecordingOptimizer[] = [];
  const svc = new StudyService(storage, fakeDeps(made), { watchIntervalMs: 0 });
  const fresh = await svc.createStudy(ext('later', { warmStartFrom: 'earlier', budget: { trials: 2 } }));
  const copies = await svc.listTrials(fresh.id);
  assert.deepEqual(copies.map((t) => [t.role, t.state]), [...Array(4).fill(['warm-start', 'COMPLETE']), ['warm-start', 'FAIL']]);
  assert.deepEqual(copies.map((t) => t.value), [0.5, 0.6, 0.7, 0.8, null]);
  assert.deepEqual(copies.map((t) => t.params), oldTrials.slice(0, 5).map((t) => t.params), 'the same points');
  assert.deepEqual(copies.map((t) => (t.metrics as { warmStart: { number: number } }).warmStart.number), oldTrials.slice(0, 5).map((t) => t.number), 'each copy names its source trial');
  assert.deepEqual((await svc.resolve(fresh.id)).attrs.warmStart, { from: { id: old.id, name: 'earlier' }, copied: 5, skipped: 0 });
  const view = await svc.getStudyView(fresh.id);
  assert.equal(view.best, null, 'a warm start is never the best of the new study');
  assert.deepEqual(view.counts, { WAITING: 0, RUNNING: 0, COMPLETE: 0, PRUNED: 0, FAIL: 0 }, 'nor search progress');
  assert.equal((await svc.ask(fresh.id, 5)).length, 2, 'no budget spent: budget.trials = 2 still grants 2');
  assert.deepEqual(made[0]!.observations.map((o) => o.value), [0.5, 0.6, 0.7, 0.8, null], 'the new optimizer learned from every copy');
});

test('a source with another objective or other search parameters, an unknown source, or nothing finished is refused, creating nothing', async () => {
  const storage = new MemoryStorage();
  await source(storage);
  const svc = createStudyService(storage);
  const before = (await svc.listStudies()).length;
  const refused = async (config: ReturnType<typeof ext>, message: RegExp) =>
    assert.rejects(svc.createStudy(config), (e: unknown) => e instanceof ConfigError && e.field === 'warmStartFrom' && message.test(e.message), String(message));
  await refused(ext('x1', { warmStartFrom: 'earlier', objective: { metric: 'top5', direction: 'maximize' } }), /top5/);
  await refused(ext('x2', { warmStartFrom: 'earlier', objective: { metric: 'top1', direction: 'minimize' } }), /cannot be compared/);
  await refused(ext('x3', { warmStartFrom: 'earlier', space: { renormMomentum: null } }), /same parameters/);
  await refused(ext('x4', { warmStartFrom: 'nope' }), /no study 'nope'/);
  await svc.createStudy(ext('empty'));
  await refused(ext('x5', { warmStartFrom: 'empty' }), /no finished trial yet/);
  assert.equal((await svc.listStudies()).length, before + 1, 'only the study made on purpose exists');
});

test('points outside a narrowed space, or values outside the new bounds, are skipped and counted', async () => {
  const storage = new MemoryStorage();
  const { trials } = await source(storage);
  const svc = createStudyService(storage);
  const warmups = trials.slice(0, 5).map((t) => t.params.warmup as number).sort((a, b) => a - b);
  const cut = (warmups[1]! + warmups[2]!) / 2;
  const fresh = await svc.createStudy(ext('narrow', { warmStartFrom: 'earlier', space: { warmup: { type: 'float', low: 0, high: cut } } }));
  const report = (await svc.resolve(fresh.id)).attrs.warmStart as { copied: number; skipped: number };
  assert.deepEqual([report.copied, report.skipped], [2, 3]);
  assert.ok((await svc.listTrials(fresh.id)).every((t) => (t.params.warmup as number) <= cut));
  const strict = await svc.createStudy(ext('strict', { warmStartFrom: 'earlier', objective: { metric: 'top1', direction: 'maximize', bounds: [0, 0.65] } }));
  assert.deepEqual((await svc.listTrials(strict.id)).map((t) => t.value), [0.5, 0.6, null]);
});

/** A storage holding the source study 'earlier' and study `name` warm-started from it, whose create was cut short after the study row. */
async function cutShort(name: string): Promise<MemoryStorage> {
  const storage = new MemoryStorage();
  await source(storage);
  // The storage fails the first trial insert, as a PostgreSQL outage between the create's writes would.
  let failNext = true;
  const createTrials = storage.createTrials.bind(storage);
  storage.createTrials = async (...args: Parameters<MemoryStorage['createTrials']>) => {
    if (failNext) {
      failNext = false;
      throw new Error('connection lost');
    }
    return createTrials(...args);
  };
  await assert.rejects(createStudyService(storage).createStudy(ext(name, { warmStartFrom: 'earlier', baselines: true })), /connection lost/);
  return storage;
}

test('a create cut short after the study row (storage gone mid-create) is finished by the next ask: warm start and baselines, once', async () => {
  const storage = await cutShort('later');
  const half = (await storage.listStudies()).find((s) => s.name === 'later')!;
  assert.deepEqual(await storage.listTrials(half.id), [], 'the outage left the study without its trials');
  // Another process (a fresh service) asks: it finishes the create first.
  const svc = createStudyService(storage);
  const asked = await svc.ask('later', 1);
  assert.equal(asked[0]!.role, 'baseline:batchnorm', 'the baselines came back, and go first');
  await svc.ask('later', 1);
  const roles = (await svc.listTrials(half.id)).map((t) => t.role);
  assert.equal(roles.filter((r) => r === 'warm-start').length, 5);
  assert.equal(roles.filter((r) => r.startsWith('baseline:')).length, 2);
  assert.deepEqual((await svc.resolve(half.id)).attrs.warmStart, { from: { id: (await svc.resolve('earlier')).id, name: 'earlier' }, copied: 5, skipped: 0 });
  // And again from a third process: the keyed copies add nothing.
  await createStudyService(storage).ensureCreated(half.id);
  assert.equal((await svc.listTrials(half.id)).length, roles.length);
});

test('a create cut short whose source is then deleted (or renamed) is finished without it: nothing copied, said in the view and by show, and asks go on', async () => {
  const storage = await cutShort('orphan');
  const svc = createStudyService(storage);
  await svc.deleteStudy('earlier');
  const asked = await svc.ask('orphan', 3);
  assert.deepEqual(asked.map((t) => t.role), ['baseline:batchnorm', 'baseline:paper', 'search']);
  const view = await svc.getStudyView('orphan');
  assert.equal(view.trials.filter((t) => t.role === 'warm-start').length, 0);
  assert.deepEqual(view.warmStart, {
    from: { id: null, name: 'earlier' }, copied: 0, skipped: 0,
    unavailable: "study 'earlier' was deleted or renamed before this study's create was finished: nothing was copied",
  });
  assert.match(showText(view), /^warm start none: study 'earlier' was deleted or renamed before/m);
  // A create (not a finish) still refuses a missing source, naming the field.
  await assert.rejects(svc.createStudy(ext('refused', { warmStartFrom: 'earlier' })), /warmStartFrom: there is no study 'earlier' to warm-start from/);
});

test('every finished source trial is copied or counted as skipped, with its reason (formula schedules were left out silently: "copied 5, skipped 0")', async () => {
  const storage = new MemoryStorage();
  const { svc, s: old } = await source(storage);
  for (const rmax of ['1 + 2 * t', '1 + t']) await svc.enqueue(old.id, { kind: 'formula', rmax, dmax: '5 * t' });
  for (const t of await svc.ask(old.id, 2)) await svc.tell(old.id, t.id, { value: 0.55 });
  const fresh = await svc.createStudy(ext('later', { warmStartFrom: 'earlier' }));
  assert.deepEqual((await svc.resolve(fresh.id)).attrs.warmStart, { from: { id: old.id, name: 'earlier' }, copied: 5, skipped: 2, skippedWhy: { noPoint: 2 } });
  const shown = showText(await svc.getStudyView(fresh.id));
  assert.match(shown, /^warm start 5 trials copied from earlier \(observations only: never the best, no budget spent\); 2 left out: 2 with no point in the search space \(a formula schedule/m);
  // Each reason is counted apart; every finished trial lands in exactly one place.
  const narrow = await svc.createStudy(ext('narrow2', { warmStartFrom: 'earlier', objective: { metric: 'top1', direction: 'maximize', bounds: [0, 0.65] } }));
  const report = (await svc.resolve(narrow.id)).attrs.warmStart as { copied: number; skipped: number; skippedWhy: Record<string, number> };
  assert.deepEqual(report.skippedWhy, { noPoint: 2, outsideBounds: 2 });
  assert.equal(report.copied + report.skipped, 7, '5 told or failed + 2 formulas, the running one is not finished');
  // A race or final re-run re-measures another trial: not an observation, but counted too.
  const records = await storage.listTrials(old.id);
  const raced = [...records, { ...records[0]!, id: 999, number: 99, role: 'race:0' as const }];
  const space = mergeScheduleSpace(undefined);
  const { report: withRace } = warmStartTrials(ext('x'), space, await svc.resolve(old.id), space, raced);
  assert.deepEqual([withRace.copied, withRace.skipped, withRace.skippedWhy], [5, 3, { noPoint: 2, evidence: 1 }]);
});
