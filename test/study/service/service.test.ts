// The study service over RAM storage (a fake clock for lease expiry): asking, budgets, leases, reports, pruning, views, events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StudyService } from '../../../src/study/service.js';
import { MemoryStorage } from '../../../src/study/storage/index.js';
import { ConfigError, ConflictError, NotFoundError } from '../../../src/errors.js';
import { BudgetExhaustedError, LeaseLostError } from '../../../src/study/errors.js';
import type { StudyEvent } from '../../../src/study/api_types.js';
import type { FinishResult } from '../../../src/study/types.js';
import { RecordingOptimizer, baseConfig, fakeDeps } from './fakes.js';

function setup(over: Record<string, unknown> = {}) {
  const made: RecordingOptimizer[] = [];
  let nowMs = Date.parse('2026-01-01T00:00:00Z');
  const storage = new MemoryStorage(() => nowMs);
  const svc = new StudyService(storage, fakeDeps(made), { watchIntervalMs: 0 });
  return { svc, storage, made, advance: (ms: number) => void (nowMs += ms) };
}

async function study(over: Record<string, unknown> = {}) {
  const s = setup(over);
  return { ...s, study: await s.svc.createStudy(baseConfig(over)) };
}

test('service: every study is created with its two baselines queued first, unless it opts out', async () => {
  for (const executor of ['local', 'external']) {
    const s = await study({ executor });
    const trials = await s.svc.listTrials(s.study.id);
    assert.deepEqual(trials.map((t) => [t.number, t.role, t.state]), [[0, 'baseline:batchnorm', 'WAITING'], [1, 'baseline:paper', 'WAITING']], executor);
    await s.svc.ensureBaselines(s.study.id);
    assert.equal((await s.svc.listTrials(s.study.id)).length, 2, 'baselines are keyed: never created twice');
  }
  const out = await study({ executor: 'external', baselines: false });
  await out.svc.ensureBaselines(out.study.id);
  assert.deepEqual(await out.svc.listTrials(out.study.id), [], 'baselines: false creates none, even when asked');
});

test('service: an external study hands out its baselines as its first asked trials, labelled, then suggestions', async () => {
  const { svc, study: s } = await study({ executor: 'external', budget: { trials: 4 } });
  const first = await svc.ask(s.id, 3);
  assert.deepEqual(first.map((t) => t.role), ['baseline:batchnorm', 'baseline:paper', 'search']);
  assert.deepEqual(first.map((t) => t.schedule.kind), ['batchnorm', 'paper', 'ramp']);
  assert.ok(first.every((t) => t.evaluateOn === 'validation' && t.stepsMultiplier === 1 && t.steps === 20 && t.lease?.owner === 'external'));
  assert.equal((await svc.ask(s.id, 3)).length, 1, 'the baselines count toward budget.trials');
  await assert.rejects(svc.ask(s.id, 1), BudgetExhaustedError);
});

test('service: ask persists trials before returning them (WAITING for local, RUNNING under a lease for external)', async () => {
  const local = await study();
  const [a] = await local.svc.ask(local.study.id, 1);
  assert.equal((await local.svc.getTrial(local.study.id, a!.id)).state, 'WAITING');
  assert.equal(a!.number, 2, 'after the two baselines');
  assert.equal((await local.svc.resolve(local.study.id)).state, 'RUNNING');
  const ext = await study({ executor: 'external', baselines: false });
  const [b] = await ext.svc.ask(ext.study.name, 1);
  const stored = await ext.svc.getTrial(ext.study.id, b!.id);
  assert.equal(stored.state, 'RUNNING');
  assert.deepEqual(stored.schedule, b!.schedule);
  assert.deepEqual(stored.params, b!.params);
  assert.deepEqual(b!.lease, { ...stored.lease, seconds: 3600 }, 'the stored lease, and its length (an external study\'s default leaseSeconds)');
  assert.equal(b!.lease?.owner, 'external');
  assert.equal(b!.role, 'search');
});

test('service: the budget holds whoever asks: a local study asked over the API gets no more than budget.trials', async () => {
  const { svc, study: s } = await study({ budget: { trials: 5 } });
  const got = await svc.ask(s.id, 10);
  assert.equal(got.length, 3, '5 - 2 baselines');
  await assert.rejects(svc.ask(s.id, 1), BudgetExhaustedError);
  assert.equal((await svc.listTrials(s.id)).length, 5);
});

test('service: an external study gets a partial grant near the end of its budget, then 409 BUDGET_EXHAUSTED', async () => {
  const { svc, study: s } = await study({ executor: 'external', baselines: false, budget: { trials: 4 } });
  assert.equal((await svc.ask(s.id, 3)).length, 3);
  assert.equal((await svc.ask(s.id, 3)).length, 1);
  await assert.rejects(svc.ask(s.id, 1), (e: unknown) => e instanceof BudgetExhaustedError && e.code === 'BUDGET_EXHAUSTED' && e.status === 409);
});

test('service: a time budget is enforced at ask by the study\'s search clock', async () => {
  const { svc, study: s, advance } = await study({ executor: 'external', baselines: false, budget: { timeMinutes: 1 } });
  await svc.ask(s.id, 1);
  for (let i = 0; i < 4; i++) {
    advance(20_000);
    await svc.tickSearchClock(s.id);
  }
  await assert.rejects(svc.ask(s.id, 1), (e: unknown) => e instanceof BudgetExhaustedError && /timeMinutes/.test((e as Error).message));
});

test('service: concurrent asks are serialized: distinct trials, each ask sees the earlier ones pending', async () => {
  const { svc, study: s, made } = await study({ executor: 'external', baselines: false, budget: { trials: 100 } });
  const batches = await Promise.all(Array.from({ length: 8 }, () => svc.ask(s.id, 2)));
  const ids = batches.flat().map((t) => t.id);
  assert.equal(new Set(ids).size, 16, 'no trial handed out twice');
  assert.equal(new Set(batches.flat().map((t) => JSON.stringify(t.params))).size, 16, 'no suggestion repeated');
  assert.deepEqual(made[0]!.pendingAtAsk, [0, 2, 4, 6, 8, 10, 12, 14], 'ask k started with 2k pending points');
});

test('service: two services on one store (two servers): a stale snapshot is recomputed, so no suggestion repeats and the budget is exact', async () => {
  const storage = new MemoryStorage();
  const a = new StudyService(storage, fakeDeps(), { watchIntervalMs: 0 });
  const b = new StudyService(storage, fakeDeps(), { watchIntervalMs: 0 });
  const s = await a.createStudy(baseConfig({ executor: 'external', baselines: false, budget: { trials: 12 } }));
  const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).ask(s.id, 2)));
  const got = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
  assert.equal(got.length, 12, 'exactly the budget');
  assert.equal(new Set(got.map((t) => JSON.stringify(t.params))).size, 12, 'no two trials got the same suggestion');
  for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof BudgetExhaustedError, String(r.reason));
});

test('service: an external trial whose trainer vanished is reclaimed at lease expiry and handed out again; the zombie is refused', async () => {
  const { svc, study: s, advance } = await study({ executor: 'external', baselines: false, leaseSeconds: 60, budget: { trials: 10 } });
  const [t] = await svc.ask(s.id, 1);
  advance(30_000);
  await svc.report(s.id, t!.id, 10, 0.5, { token: t!.lease!.token });
  advance(45_000);
  const [again] = await svc.ask(s.id, 1);
  assert.notEqual(again!.id, t!.id, 'a report renewed the lease: the trial is still its trainer\'s');
  advance(61_000);
  const [reclaimed] = await svc.ask(s.id, 1);
  assert.equal(reclaimed!.id, t!.id, 'the abandoned trial is handed out before any new suggestion');
  assert.equal(reclaimed!.lease!.token, t!.lease!.token + 1);
  assert.equal((await svc.getTrial(s.id, t!.id)).retries, 1);
  await assert.rejects(svc.tell(s.id, t!.id, { value: 0.9 }, { token: t!.lease!.token }), LeaseLostError);
  await assert.rejects(svc.report(s.id, t!.id, 20, 0.6, { token: t!.lease!.token }), (e: unknown) => e instanceof LeaseLostError && (e as LeaseLostError).status === 409);
  assert.equal((await svc.tell(s.id, t!.id, { value: 0.95 }, { token: reclaimed!.lease!.token })).value, 0.95);
});

test('service: a repeated step keeps its first value; another value is answered as ignored, and only stored reports are events', async () => {
  const { svc, study: s } = await study({ executor: 'external', baselines: false });
  const [t] = await svc.ask(s.id, 1);
  const events: StudyEvent[] = [];
  const off = await svc.subscribe(s.id, (e) => events.push(e));
  try {
    assert.deepEqual(await svc.report(s.id, t!.id, 10, 0.5), { prune: false });
    assert.deepEqual(await svc.report(s.id, t!.id, 10, 0.5), { prune: false }, 'a retry says nothing');
    const other = await svc.report(s.id, t!.id, 10, 0.75);
    assert.equal(other.prune, false);
    assert.match(other.ignored ?? '', /^trial #0 already has 0\.5 at step 10: this report's 0\.75 is ignored \(fix: report each step once/);
    assert.deepEqual((await svc.getTrial(s.id, t!.id)).intermediate, [{ step: 10, value: 0.5 }]);
    assert.equal(events.filter((e) => e.type === 'report').length, 1, 'the dashboard is sent the one stored value');
  } finally {
    off();
  }
});

test('service: tell finishes once; a second tell is a ConflictError; the optimizer learns the value', async () => {
  const { svc, study: s, made } = await study({ executor: 'external', baselines: false });
  const [t] = await svc.ask(s.id, 1);
  assert.equal((await svc.tell(s.id, t!.id, { value: 0.91 })).state, 'COMPLETE');
  await assert.rejects(svc.tell(s.id, t!.id, { value: 0.5 }), ConflictError);
  assert.equal((await svc.getTrial(s.id, t!.id)).value, 0.91, 'the first value stands');
  await svc.ask(s.id, 1);
  assert.deepEqual(made[0]!.observations.map((o) => o.value), [0.91]);
});

test('service: unknown study or trial ids are NotFoundError; studies are found by id or name', async () => {
  const { svc, study: s } = await study();
  await assert.rejects(svc.ask('nope', 1), NotFoundError);
  await assert.rejects(svc.tell(s.id, 999, { value: 1 }), NotFoundError);
  await assert.rejects(svc.report(s.id, 999, 1, 0.5), NotFoundError);
  await assert.rejects(svc.getStudyView('nope'), NotFoundError);
  await assert.rejects(svc.tell('nope', 1, { value: 1 }), NotFoundError);
  assert.equal((await svc.getStudyView(s.name)).id, s.id);
});

test('service: bad ask counts and tell values name the field', async () => {
  const { svc, study: s } = await study({ executor: 'external', baselines: false });
  await assert.rejects(svc.ask(s.id, 0), (e: unknown) => e instanceof ConfigError && e.field === 'count');
  const [t] = await svc.ask(s.id, 1);
  await assert.rejects(svc.tell(s.id, t!.id, { value: NaN }), (e: unknown) => e instanceof ConfigError && e.field === 'value');
});

test('service: a failed tell reaches the optimizer as null; fail reasons are stored', async () => {
  const { svc, study: s, made } = await study({ executor: 'external', baselines: false });
  const [t] = await svc.ask(s.id, 1);
  const rec = await svc.tell(s.id, t!.id, { failed: 'out of memory' });
  assert.equal(rec.state, 'FAIL');
  assert.equal(rec.failureReason, 'out of memory');
  await svc.ask(s.id, 1);
  assert.deepEqual(made[0]!.observations.map((o) => o.value), [null]);
});

test('service: a rebuilt optimizer (restart) sees finished trials as observations and open ones as pending', async () => {
  const { svc, study: s, made } = await study({ executor: 'external', baselines: false });
  const [a, b] = await svc.ask(s.id, 2);
  await svc.tell(s.id, a!.id, { value: 0.7 });
  svc.forget(s.id);
  await svc.ask(s.id, 1);
  const rebuilt = made[1]!;
  assert.deepEqual(rebuilt.observations, [{ params: a!.params, value: 0.7 }]);
  assert.equal(rebuilt.pendingAtAsk[0], 1, `trial ${b!.id} is still pending`);
});

test('service: report stores the curve, the median pruner stops a trial below the median, and the decision survives a restart', async () => {
  const { svc, storage, study: s } = await study({ executor: 'external', baselines: false, pruner: { type: 'median', minTrials: 2 } });
  const done = await svc.ask(s.id, 2);
  for (const [i, t] of done.entries()) {
    assert.deepEqual(await svc.report(s.id, t.id, 10, 0.5 + 0.1 * i), { prune: false });
    await svc.tell(s.id, t.id, { value: 0.6 + 0.1 * i });
  }
  const [bad] = await svc.ask(s.id, 1);
  assert.deepEqual(await svc.report(s.id, bad!.id, 10, 0.1, { metrics: { loss: 2 } }), { prune: true });
  assert.deepEqual((await svc.getTrial(s.id, bad!.id)).intermediate, [{ step: 10, value: 0.1, metrics: { loss: 2 } }]);
  // A new process (a restarted server) still knows the trial was told to stop.
  const restarted = new StudyService(storage, fakeDeps(), { watchIntervalMs: 0 });
  assert.equal((await restarted.getTrial(s.id, bad!.id)).pruneRequested, true);
  assert.equal((await restarted.tell(s.id, bad!.id, { value: 0.1 })).state, 'PRUNED', 'a trial told to stop is recorded PRUNED');
});

test('service: baselines and final runs are never pruned', async () => {
  const { svc, study: s } = await study({ pruner: { type: 'median', minTrials: 1 } });
  const [bn] = await svc.listTrials(s.id);
  const got = (await svc.claimTrial(s.id, bn!.id, { owner: 'me', seconds: 60 }))!;
  const others = await svc.ask(s.id, 1);
  const o = (await svc.claimTrial(s.id, others[0]!.id, { owner: 'me', seconds: 60 }))!;
  await svc.report(s.id, o.trial.id, 10, 0.9);
  await svc.finishTrial(s.id, o.trial.id, { state: 'COMPLETE', value: 0.9 });
  assert.deepEqual(await svc.report(s.id, bn!.id, 10, 0.01, { token: got.lease.token }), { prune: false });
});

/** What a runner does with a queued trial: claims it, then finishes it under that lease (a queued trial cannot be finished). */
async function runToEnd(svc: StudyService, studyId: string, trialId: number, result: FinishResult): Promise<void> {
  const got = await svc.claimTrial(studyId, trialId, { owner: 'test:1', seconds: 60 });
  assert.ok(got, `trial ${trialId} was claimed by someone else`);
  await svc.finishTrial(studyId, trialId, result, got.lease.token);
}

test('service: views count states, pick the best, report baselines and final validation', async () => {
  const { svc, study: s } = await study();
  const [bn, pa] = await svc.listTrials(s.id);
  await runToEnd(svc, s.id, bn!.id, { state: 'COMPLETE', value: 0.8 });
  await runToEnd(svc, s.id, pa!.id, { state: 'COMPLETE', value: 0.85 });
  const [t] = await svc.ask(s.id, 2);
  await runToEnd(svc, s.id, t!.id, { state: 'COMPLETE', value: 0.9 });
  await svc.advanceEvidence(s.id);
  const finals = (await svc.listTrials(s.id)).filter((x) => x.role.startsWith('final:'));
  for (const f of finals) await runToEnd(svc, s.id, f.id, { state: 'COMPLETE', value: 0.99 });
  await svc.setStudyAttr(s.id, 'finalValidation', { best: { values: [0.99], mean: 0.99, ci: [0.98, 1] }, trialId: t!.id });
  const view = await svc.getStudyView(s.id);
  assert.deepEqual(view.counts, { WAITING: 1, RUNNING: 0, COMPLETE: 3, PRUNED: 0, FAIL: 0 }, 'final runs are not counted');
  assert.deepEqual(view.best, { trialId: t!.id, number: t!.number, value: 0.9 }, 'a final:* run is never the best');
  assert.deepEqual(view.baselines, { batchnorm: 0.8, paper: 0.85 });
  assert.equal(view.budgetTrials, 10);
  assert.equal(view.totalSteps, 20);
  assert.equal(view.metric, 'valAccuracy');
  assert.equal(view.finalValidation?.trialId, t!.id);
  assert.deepEqual((await svc.listStudies()).map((x) => x.best), [{ trialId: t!.id, number: t!.number, value: 0.9 }]);
});

test('service: final validation runs every arm on the same fresh seeds, once however often it is asked for', async () => {
  const { svc, study: s } = await study({ finalValidation: { seeds: 3 } });
  const [bn, pa] = await svc.listTrials(s.id);
  await runToEnd(svc, s.id, bn!.id, { state: 'COMPLETE', value: 0.8 });
  await runToEnd(svc, s.id, pa!.id, { state: 'COMPLETE', value: 0.85 });
  const [t] = await svc.ask(s.id, 1);
  await runToEnd(svc, s.id, t!.id, { state: 'COMPLETE', value: 0.9 });
  await svc.advanceEvidence(s.id);
  await svc.advanceEvidence(s.id);
  const finals = (await svc.listTrials(s.id)).filter((x) => x.role.startsWith('final:'));
  assert.equal(finals.length, 9, '3 arms x 3 seeds, created once');
  const seedsOf = (arm: string) => finals.filter((f) => f.role === `final:${arm}`).map((f) => f.seed);
  assert.deepEqual(seedsOf('batchnorm'), seedsOf('best'), 'paired: the same seeds for every arm');
  assert.deepEqual(seedsOf('paper'), seedsOf('best'));
  assert.equal(new Set(seedsOf('best')).size, 3);
});

test('service: a baseline whose search run failed still gets its final runs (they retrain its schedule from scratch)', async () => {
  const { svc, study: s } = await study({ finalValidation: { seeds: 2 } });
  const [bn, pa] = await svc.listTrials(s.id);
  await runToEnd(svc, s.id, bn!.id, { state: 'FAIL', failureReason: 'CUDA out of memory' });
  await runToEnd(svc, s.id, pa!.id, { state: 'COMPLETE', value: 0.85 });
  const [t] = await svc.ask(s.id, 1);
  await runToEnd(svc, s.id, t!.id, { state: 'COMPLETE', value: 0.9 });
  await svc.advanceEvidence(s.id);
  const finals = (await svc.listTrials(s.id)).filter((x) => x.role.startsWith('final:'));
  assert.deepEqual(finals.map((f) => f.role).sort(), ['final:batchnorm', 'final:batchnorm', 'final:best', 'final:best', 'final:paper', 'final:paper']);
  assert.deepEqual(finals.find((f) => f.role === 'final:batchnorm')!.schedule, { kind: 'batchnorm' });
});

test('service: subscribers get incremental events of their study (no curve in trial events), and can unsubscribe', async () => {
  const { svc, study: s } = await study({ executor: 'external', baselines: false });
  const events: StudyEvent[] = [];
  const off = await svc.subscribe(s.id, (e) => events.push(e));
  const [t] = await svc.ask(s.id, 1);
  await svc.report(s.id, t!.id, 5, 0.5);
  await svc.report(s.id, t!.id, 10, 0.6);
  await svc.tell(s.id, t!.id, { value: 0.6 });
  off();
  await svc.ask(s.id, 1);
  const shown = events.map((e) => (e.type === 'trial' ? e.trial.state : e.type === 'report' ? `report@${e.point.step}` : e.type === 'study' ? `study:${e.state}` : e.type));
  assert.deepEqual(shown, ['RUNNING', 'study:RUNNING', 'report@5', 'report@10', 'COMPLETE']);
  for (const e of events) if (e.type === 'trial') assert.equal('intermediate' in e.trial, false, 'a state change does not resend the curve');
  await assert.rejects(svc.subscribe('nope', () => {}), NotFoundError);
});

test('service: the evidence phase moves in steps (race and baseline finals, then the winner\'s), queued once however many services advance it', async () => {
  const storage = new MemoryStorage();
  const a = new StudyService(storage, fakeDeps(), { watchIntervalMs: 0 });
  const b = new StudyService(storage, fakeDeps(), { watchIntervalMs: 0 });
  const s = await a.createStudy(baseConfig({ budget: { trials: 5 }, finalValidation: { seeds: 2, race: { candidates: 2, seeds: 1 } } }));
  const finishAll = async (pick: (role: string) => boolean, value: (role: string) => number) => {
    for (const t of (await a.listTrials(s.id)).filter((x) => x.state === 'WAITING' && pick(x.role))) await runToEnd(a, s.id, t.id, { state: 'COMPLETE', value: value(t.role) });
  };
  await a.ask(s.id, 3);
  assert.equal(await a.advanceEvidence(s.id), 'search', 'nothing is planned while search trials are queued');
  await finishAll(() => true, (role) => (role === 'search' ? 0.9 : 0.8));
  assert.deepEqual(await Promise.all([a.advanceEvidence(s.id), b.advanceEvidence(s.id), a.advanceEvidence(s.id)]), ['waiting', 'waiting', 'waiting']);
  const roles = async () => (await a.listTrials(s.id)).filter((t) => !['search', 'baseline:batchnorm', 'baseline:paper'].includes(t.role)).map((t) => t.role).sort();
  assert.deepEqual(await roles(), ['final:batchnorm', 'final:batchnorm', 'final:paper', 'final:paper', 'race:2', 'race:3']);
  await finishAll((role) => role.startsWith('race:'), (role) => (role === 'race:3' ? 0.95 : 0.85));
  await Promise.all([a.advanceEvidence(s.id), b.advanceEvidence(s.id)]);
  assert.deepEqual((await roles()).filter((r) => r === 'final:best').length, 2, 'the winner\'s final runs, once');
  const src = (await a.resolve(s.id)).attrs.finalValidationSource as { best: number; trialNumber: number };
  assert.equal(src.trialNumber, 3, 'the race winner (0.9 then 0.95), not the first of two equal search values');
  await finishAll((role) => role.startsWith('final:'), (role) => (role === 'final:best' ? 0.93 : 0.9));
  assert.equal(await b.advanceEvidence(s.id), 'done');
  const fv = (await a.resolve(s.id)).attrs.finalValidation as { pending: number; best: { trialNumber: number } };
  assert.equal(fv.pending, 0);
  assert.equal(fv.best.trialNumber, 3);
});

/** Counts the calls of one of `storage`'s methods from here on. */
function countCalls(storage: MemoryStorage, method: 'getStudy' | 'listTrials'): () => number {
  let calls = 0;
  const inner = storage[method].bind(storage) as (...args: unknown[]) => Promise<unknown>;
  (storage as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
    calls++;
    return inner(...args);
  };
  return () => calls;
}

test('service: a trial read by number after the study was resolved reads the study row no second time (`show --trial`)', async () => {
  const { svc, storage, study: s } = await study({ executor: 'external', baselines: false });
  await svc.ask(s.id, 2);
  const again = new StudyService(storage, fakeDeps(), { watchIntervalMs: 0 });
  const reads = countCalls(storage, 'getStudy');
  const resolved = await again.resolve(s.name);
  const before = reads();
  assert.equal((await again.getTrialView(resolved.id, { number: 1 })).number, 1);
  assert.equal(reads(), before, 'the study row once, by the resolve');
  await assert.rejects(again.getTrialView('no-such-study', { number: 1 }), /study 'no-such-study'/);
});

test('service: a read, report or tell by number on a fresh service reads that one trial, never the study; only a wrong number lists it, to name the numbers it has', async () => {
  const { svc, storage, study: s } = await study({ executor: 'external', baselines: false });
  await svc.ask(s.id, 3);
  const fresh = new StudyService(storage, fakeDeps(), { watchIntervalMs: 0 });
  const listed = countCalls(storage, 'listTrials');
  assert.equal((await fresh.getTrialView(s.id, { number: 1 })).number, 1);
  assert.deepEqual(await fresh.report(s.id, { number: 2 }, 5, 0.5), { prune: false });
  assert.equal((await fresh.tell(s.id, { number: 2 }, { value: 0.6 })).state, 'COMPLETE');
  assert.equal(listed(), 0, 'a study of 100,000 trials took about 2 s to list: a trial by number must not cost that');
  await assert.rejects(fresh.tell(s.id, { number: 9 }, { value: 0.5 }), /has no trial #9; its trials are #0-#2 /);
  assert.equal(listed(), 1);
});
