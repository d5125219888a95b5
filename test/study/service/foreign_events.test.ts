// Another process's changes reach a subscriber as incremental events (a trial per change, a report per curve point), and a viewer that applies them holds what a reload would show.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyEvent } from '../../../src/shared/live_view.js';
import type { StudyView as PageView } from '../../../dashboard/types.js';
import type { AskedTrial, StudyEvent } from '../../../src/study/api_types.js';
import type { TrialRecord } from '../../../src/study/types.js';
import { StudyService } from '../../../src/study/service.js';
import { ForeignEvents, MAX_FINISHED_READ, MAX_RUNNING_READ } from '../../../src/study/service/foreign_events.js';
import { MemoryStorage } from '../../../src/study/storage/index.js';
import { trialSummary } from '../../../src/study/service/views.js';
import { baseConfig, fakeDeps } from './fakes.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Two services over one store: to `a`, everything `b` does is another process's change. */
function twoServices() {
  const storage = new MemoryStorage();
  const a = new StudyService(storage, fakeDeps(), { watchIntervalMs: 10 });
  const b = new StudyService(storage, fakeDeps(), { watchIntervalMs: 0 });
  return { a, b, close: () => (a.close(), b.close()) };
}

/** A study `b` creates and asks `asks` trials of, then `a`'s subscription to it. */
async function watched(a: StudyService, b: StudyService, asks: number) {
  const study = await b.createStudy(baseConfig({ executor: 'external' }));
  if (asks > 0) await b.ask(study.id, asks);
  const events: StudyEvent[] = [];
  const off = await a.subscribe(study.id, (e) => events.push(e));
  return { study, events, off };
}

/** A ForeignEvents whose looks the test takes (`await foreign.changed(id)`), over the store `b` writes. */
function looksByHand() {
  const storage = new MemoryStorage();
  const events: StudyEvent[] = [];
  return { b: new StudyService(storage, fakeDeps(), { watchIntervalMs: 0 }), events, foreign: new ForeignEvents(storage, (e) => events.push(e), 0) };
}

/** Waits for `done` to hold (polled; fails after 20 s), then until no event has arrived for 600 ms (looks are 200 ms apart). */
async function settle(events: unknown[], done: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; !(await done()); i++) {
    if (i > 1000) assert.fail(`not reached within 20 s; ${events.length} events so far`);
    await sleep(20);
  }
  let n = -1;
  while (n !== events.length) {
    n = events.length;
    await sleep(600);
  }
}

/** What a viewer shows of each trial; a lease's expiry moves with every renewal and is not announced. */
const shown = (v: { trials: readonly { number: number; state: string; value: number | null; failureReason: string | null; intermediate: readonly { step: number; value: number }[] }[] }) =>
  v.trials.map((t) => ({ number: t.number, state: t.state, value: t.value, failureReason: t.failureReason, curve: t.intermediate.map((p) => [p.step, p.value]) }));

test('foreign events: asks, reports, tells, a failure and an enqueued trial by another process are told trial by trial, and applied they equal a reload', async () => {
  const { a, b, close } = twoServices();
  try {
    const study = await b.createStudy(baseConfig({ executor: 'external' }));
    const [done] = await b.ask(study.id, 1);
    await b.report(study.id, done!.id, 10, 0.3);
    await b.tell(study.id, done!.id, { value: 0.4 });
    const events: StudyEvent[] = [];
    const off = await a.subscribe(study.id, (e) => events.push(e));
    const page = (await a.getStudyView(study.id)) as unknown as PageView;
    const [t1, t2, t3] = await b.ask(study.id, 3);
    await b.report(study.id, t1!.id, 10, 0.5);
    await b.report(study.id, t2!.id, 10, 0.6);
    await settle(events, () => events.filter((e) => e.type === 'report').length >= 2);
    await b.report(study.id, t1!.id, 20, 0.7);
    await b.tell(study.id, t1!.id, { value: 0.75 });
    await b.tell(study.id, t2!.id, { failed: 'out of memory' });
    await b.enqueue(study.id, { kind: 'ramp', shape: 'linear', warmup: 0.1, rmaxFinal: 2, rmaxEnd: 0.5, dmaxFinal: 1, dmaxEnd: 0.5 });
    await b.report(study.id, t3!.id, 10, 0.2);
    const fresh = await a.getStudyView(study.id);
    let applied = 0;
    await settle(events, () => {
      for (; applied < events.length; applied++) assert.equal(applyEvent(page, events[applied] as never), true, `the page applies ${JSON.stringify(events[applied])}`);
      return JSON.stringify(shown(page)) === JSON.stringify(shown(fresh));
    });
    off();
    for (; applied < events.length; applied++) applyEvent(page, events[applied] as never);
    assert.deepEqual(events.filter((e) => e.type === 'study' && e.refetch), [], 'nothing needed a reload');
    assert.deepEqual(shown(page), shown(fresh), 'the events rebuilt what a reload shows');
    assert.equal(page.trials.length, 5);
    assert.deepEqual(page.trials.find((t) => t.id === t1!.id)!.intermediate.map((p) => p.step), [10, 20], 'both points of the curve arrived');
    assert.deepEqual(
      events.filter((e) => e.type === 'report').map((e) => e.type === 'report' && [e.number, e.point.step]),
      [[t1!.number, 10], [t2!.number, 10], [t1!.number, 20], [t3!.number, 10]],
      'each point once, though t3\'s curve was read at every look',
    );
  } finally {
    close();
  }
});

test('foreign events: a rename is a refetch, a stop a state change, and a quiet study gets no event', async () => {
  const { a, b, close } = twoServices();
  try {
    const { study, events, off } = await watched(a, b, 2);
    await sleep(800);
    assert.deepEqual(events, [], 'no event without a change');
    await b.stopStudy(study.id);
    await settle(events, () => events.length > 0);
    assert.deepEqual(events, [{ type: 'study', studyId: study.id, state: 'STOPPED' }]);
    await b.renameStudy(study.id, 'renamed-elsewhere');
    await settle(events, () => events.length > 1);
    assert.deepEqual(events.slice(1), [{ type: 'study', studyId: study.id, state: 'STOPPED', refetch: true }]);
    off();
  } finally {
    close();
  }
});

test('foreign events: new results (a final-validation report) by another process arrive in a `study` event, without a reload; an attr the view does not show sends nothing', async () => {
  const { a, b, close } = twoServices();
  try {
    const { study, events, off } = await watched(a, b, 1);
    const page = (await a.getStudyView(study.id)) as unknown as PageView;
    await b.setStudyAttr(study.id, 'finalValidationSource', { best: null, searched: 1 });
    await b.setStudyAttr(study.id, 'askedTotalSteps', 123);
    await sleep(800);
    assert.deepEqual(events, [], 'attrs the view does not show are no change to it');
    const report = { version: 2, seeds: [1, 2], arms: {}, pending: 0 };
    await b.setStudyAttr(study.id, 'finalValidation', report);
    await settle(events, () => events.length > 0);
    assert.deepEqual(events, [{ type: 'study', studyId: study.id, state: 'RUNNING', results: { finalValidation: report, warmStart: null } }]);
    assert.equal(applyEvent(page, events[0] as never), true, 'applied without a reload');
    assert.deepEqual(page.finalValidation, report);
    off();
  } finally {
    close();
  }
});

test('foreign events: a study deleted by another process is told once as `deleted`, and no longer looked at', async () => {
  const { a, b, close } = twoServices();
  try {
    const { study, events, off } = await watched(a, b, 2);
    await b.deleteStudy(study.id);
    await settle(events, () => events.length > 0);
    assert.deepEqual(events, [{ type: 'deleted', studyId: study.id }]);
    const { study: other, events: seen, off: offOther } = await watched(a, b, 0);
    await b.ask(other.id, 1);
    await settle(seen, () => seen.length > 0);
    assert.equal(events.length, 1, 'the watch that still polls for the other study tells nothing more of the deleted one');
    offOther();
    off();
  } finally {
    close();
  }
});

test('foreign events: this process\'s own delete is told once, not again when a look finds the study gone', async () => {
  const { a, close } = twoServices();
  try {
    const study = await a.createStudy(baseConfig({ executor: 'external' }));
    const events: StudyEvent[] = [];
    const off = await a.subscribe(study.id, (e) => events.push(e));
    await a.ask(study.id, 1);
    await settle(events, () => events.some((e) => e.type === 'trial'));
    events.length = 0;
    await a.deleteStudy(study.id);
    await settle(events, () => events.length > 0);
    assert.deepEqual(events, [{ type: 'deleted', studyId: study.id }]);
    off();
  } finally {
    close();
  }
});

test(`foreign events: more than ${MAX_FINISHED_READ} trials finished between two looks is one refetch, then events again`, async () => {
  const { b, events, foreign } = looksByHand();
  try {
    const study = await b.createStudy(baseConfig({ executor: 'external', budget: { trials: 200 } }));
    await foreign.begin(study.id);
    const asked = [...(await b.ask(study.id, 40)), ...(await b.ask(study.id, 40))];
    await foreign.changed(study.id);
    assert.equal(events.filter((e) => e.type === 'trial').length, 80, '80 new RUNNING trials, told one by one');
    assert.ok(events.every((e) => !(e.type === 'study' && e.refetch)));
    events.length = 0;
    for (const t of asked.slice(0, MAX_FINISHED_READ + 1)) await b.tell(study.id, t.id, { value: 0.5 });
    await foreign.changed(study.id);
    assert.deepEqual(events, [{ type: 'study', studyId: study.id, state: 'RUNNING', refetch: true }], 'too many to read one by one: one refetch');
    events.length = 0;
    await foreign.changed(study.id);
    assert.equal(events.length, 0, 'a look with nothing new says nothing');
    await b.tell(study.id, asked[79]!.id, { value: 0.25 });
    await foreign.changed(study.id);
    assert.deepEqual(events.map((e) => e.type === 'trial' && [e.trial.number, e.trial.state]), [[asked[79]!.number, 'COMPLETE']], 'after it, changes are told one by one again');
  } finally {
    b.close();
  }
});

test(`foreign events: more than ${MAX_RUNNING_READ} RUNNING trials is a refetch at every look`, async () => {
  const { b, events, foreign } = looksByHand();
  try {
    const study = await b.createStudy(baseConfig({ executor: 'external', budget: { trials: 1000 } }));
    await foreign.begin(study.id);
    for (let n = 0; n <= MAX_RUNNING_READ; n += 64) await b.ask(study.id, 64);
    await foreign.changed(study.id);
    await foreign.changed(study.id);
    assert.deepEqual(events.map((e) => e.type === 'study' && e.refetch), [true, true]);
  } finally {
    b.close();
  }
});

for (const lookBetween of [true, false]) {
  test(`foreign events: a trial handed back and run again starts its curve over (${lookBetween ? 'a look sees it queued' : 'no look while it is queued'}); applied, the events equal a reload`, async () => {
    const { b, events, foreign } = looksByHand();
    try {
      const study = await b.createStudy(baseConfig({ executor: 'external' }));
      await foreign.begin(study.id);
      const page = (await b.getStudyView(study.id)) as unknown as PageView;
      const [t] = await b.ask(study.id, 1);
      await b.report(study.id, t!.id, 10, 0.3, { token: t!.lease!.token });
      await b.report(study.id, t!.id, 20, 0.35, { token: t!.lease!.token });
      await foreign.changed(study.id);
      await b.release(study.id, t!.id, t!.lease!.token);
      if (lookBetween) await foreign.changed(study.id);
      const [again] = await b.ask(study.id, 1);
      assert.equal(again!.id, t!.id, 'the queued trial is handed out again');
      await b.report(study.id, t!.id, 10, 0.4, { token: again!.lease!.token });
      await foreign.changed(study.id);
      for (const e of events) assert.equal(applyEvent(page, e as never), true, `applied: ${JSON.stringify(e)}`);
      assert.deepEqual(shown(page), shown(await b.getStudyView(study.id)), 'the page shows the new attempt\'s curve alone');
      assert.deepEqual(page.trials[0]!.intermediate.map((p) => [p.step, p.value]), [[10, 0.4]]);
    } finally {
      b.close();
    }
  });
}

test('foreign events: another process\'s change just before one of this process\'s own is still told', async () => {
  const storage = new MemoryStorage();
  // Looks 300 ms apart: this process's own ask lands before the watcher's next look.
  const a = new StudyService(storage, fakeDeps(), { watchIntervalMs: 300 });
  const b = new StudyService(storage, fakeDeps(), { watchIntervalMs: 0 });
  try {
    const study = await b.createStudy(baseConfig({ executor: 'external' }));
    const [t] = await b.ask(study.id, 1);
    const events: StudyEvent[] = [];
    const off = await a.subscribe(study.id, (e) => events.push(e));
    await b.tell(study.id, t!.id, { value: 0.9 });
    const [mine] = await a.ask(study.id, 1);
    await settle(events, () => events.some((e) => e.type === 'trial' && e.trial.id === t!.id));
    off();
    const told = events.filter((e) => e.type === 'trial').map((e) => e.type === 'trial' && [e.trial.number, e.trial.state]);
    assert.deepEqual(told, [[mine!.number, 'RUNNING'], [t!.number, 'COMPLETE']], 'this process\'s ask at once, the other\'s tell at the next look, each once');
  } finally {
    a.close();
    b.close();
  }
});

test('foreign events: what a look told first is not sent again as this process\'s own, and the other way round', async () => {
  const { b, events, foreign } = looksByHand();
  try {
    const study = await b.createStudy(baseConfig({ executor: 'external' }));
    await foreign.begin(study.id);
    const [t] = await b.ask(study.id, 1);
    await b.report(study.id, t!.id, 10, 0.5);
    await foreign.changed(study.id);
    const trialEvent = events.find((e) => e.type === 'trial');
    const reportEvent = events.find((e) => e.type === 'report');
    assert.ok(trialEvent && reportEvent, `a look told the trial and its point: ${JSON.stringify(events)}`);
    assert.equal(foreign.own(trialEvent), false, 'the same trial, unchanged: not sent again');
    assert.equal(foreign.own(reportEvent), false, 'the same point: not sent again');
    const later = { type: 'report' as const, studyId: study.id, trialId: t!.id, number: t!.number, point: { step: 20, value: 0.6 } };
    assert.equal(foreign.own(later), true, 'a new point is sent');
    await b.report(study.id, t!.id, 20, 0.6);
    events.length = 0;
    await foreign.changed(study.id);
    assert.equal(events.length, 0, `the look does not repeat what this process sent: ${JSON.stringify(events)}`);
    assert.equal(foreign.own({ type: 'trial', studyId: 'another study', trial: { ...(trialEvent.type === 'trial' ? trialEvent.trial : ({} as never)) } }), true, 'an unwatched study passes');
  } finally {
    b.close();
  }
});

/** A store whose RUNNING listing (the look's read of the curves) or study read waits for the test, before it reads (so it reads what the test did meanwhile) or after. */
function gatedRead(storage: MemoryStorage, when: 'before' | 'after', which: 'curves' | 'study' = 'curves') {
  let open!: () => void;
  let reached!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const atGate = new Promise<void>((r) => (reached = r));
  let armed = false;
  async function held<T>(read: () => Promise<T>): Promise<T> {
    armed = false;
    if (when === 'before') {
      reached();
      await gate;
      return read();
    }
    const value = await read();
    reached();
    await gate;
    return value;
  }
  const store = {
    getStudy: (id: string) => (armed && which === 'study' ? held(() => storage.getStudy(id)) : storage.getStudy(id)),
    getTrial: (id: string, trialId: number) => storage.getTrial(id, trialId),
    listTrials: (id: string, opts?: Parameters<MemoryStorage['listTrials']>[1]) =>
      armed && which === 'curves' && opts?.states ? held(() => storage.listTrials(id, opts)) : storage.listTrials(id, opts),
  };
  return { store, arm: () => (armed = true), atGate, open: () => open() };
}

/**
 * A study with one trial asked and reported at step 10, told by a look; then `own` (a change by this process, whose
 * event it sends as the server does) happens while the next look is held at its read of the curves, `when` that
 * read; then one more trial asked and reported, and a look. Returns what was told of the first trial, and the page
 * the events build next to a reload.
 */
async function ownChangeDuringLook(when: 'before' | 'after', own: (b: StudyService, studyId: string, t: AskedTrial) => Promise<TrialRecord>) {
  const storage = new MemoryStorage();
  const b = new StudyService(storage, fakeDeps(), { watchIntervalMs: 0 });
  const gated = gatedRead(storage, when);
  const events: StudyEvent[] = [];
  const foreign = new ForeignEvents(gated.store, (e) => events.push(e), 0);
  try {
    const study = await b.createStudy(baseConfig({ executor: 'external' }));
    await foreign.begin(study.id);
    const [t] = await b.ask(study.id, 1);
    await foreign.changed(study.id);
    await b.report(study.id, t!.id, 10, 0.5);
    gated.arm();
    const look = foreign.changed(study.id);
    await gated.atGate;
    // What leaves the process: a look's events, and this process's own where `own` lets them pass.
    const changed = await own(b, study.id, t!);
    if (foreign.own({ type: 'trial', studyId: study.id, trial: trialSummary(changed) })) events.push({ type: 'trial', studyId: study.id, trial: trialSummary(changed) });
    gated.open();
    await look;
    await b.report(study.id, (await b.ask(study.id, 1))[0]!.id, 5, 0.1);
    await foreign.changed(study.id);
    const ofT = events.filter((e) => (e.type === 'trial' && e.trial.id === t!.id) || (e.type === 'report' && e.trialId === t!.id));
    const told = ofT.map((e) => (e.type === 'trial' ? e.trial.state : e.type === 'report' ? `step ${e.point.step}` : e.type));
    const page = { id: study.id, direction: 'maximize', trials: [] } as unknown as PageView;
    for (const e of events) applyEvent(page, e as never);
    const fresh = await b.getStudyView(study.id);
    return { told, page: shown(page).filter((x) => x.number === t!.number), reload: shown(fresh).filter((x) => x.number === t!.number) };
  } finally {
    b.close();
  }
}

for (const when of ['before', 'after'] as const) {
  const read = when === 'before' ? 'after' : 'before';
  test(`foreign events: this process's own tell during a look (its read of the curves ${read} the tell) is told once, never followed by the older state, and the new point once`, async () => {
    const { told, page, reload } = await ownChangeDuringLook(when, (b, id, t) => b.tell(id, t.id, { value: 0.9 }));
    assert.deepEqual(told.filter((x) => x !== 'step 10'), ['RUNNING', 'COMPLETE'], `the trial told once in each state, in order: ${JSON.stringify(told)}`);
    assert.equal(told.filter((x) => x === 'step 10').length, 1, `its new point told once: ${JSON.stringify(told)}`);
    assert.deepEqual(page, reload, 'applied, the events show the trial as a reload does');
  });

  test(`foreign events: this process's own hand-back during a look (its read of the curves ${read} it) is never followed by the claim it ended`, async () => {
    const { told, page, reload } = await ownChangeDuringLook(when, (b, id, t) => b.release(id, { number: t.number }, t.lease!.token));
    // The ask after the look hands the trial out again (queued trials first): a new claim, told as one.
    assert.deepEqual(told.filter((x) => !x.startsWith('step')), ['RUNNING', 'WAITING', 'RUNNING'], `the claim, the hand-back, its next claim, and no stale claim between: ${JSON.stringify(told)}`);
    assert.deepEqual(page, reload, 'applied, the events show the trial as a reload does');
  });
}

test('foreign events: this process\'s own study event during a look is not followed by the look\'s older read of the study', async () => {
  const storage = new MemoryStorage();
  const b = new StudyService(storage, fakeDeps(), { watchIntervalMs: 0 });
  const gated = gatedRead(storage, 'after', 'study');
  const events: StudyEvent[] = [];
  const foreign = new ForeignEvents(gated.store, (e) => events.push(e), 0);
  try {
    const study = await b.createStudy(baseConfig({ executor: 'external' }));
    await foreign.begin(study.id);
    await b.ask(study.id, 1);
    gated.arm();
    const look = foreign.changed(study.id);
    await gated.atGate;
    await b.stopStudy(study.id);
    const stopped = (await storage.getStudy(study.id))!;
    if (foreign.own({ type: 'study', studyId: study.id, state: stopped.state })) events.push({ type: 'study', studyId: study.id, state: stopped.state });
    gated.open();
    await look;
    const states = events.filter((e) => e.type === 'study').map((e) => e.type === 'study' && e.state);
    assert.deepEqual(states, [stopped.state], `the study told in its newest state only: ${JSON.stringify(events)}`);
  } finally {
    b.close();
  }
});

