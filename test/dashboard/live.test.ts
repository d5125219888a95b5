// The page's live updates (applyEvent, and retally beneath it) against the plain rule they stand in for: after each of
// thousands of random events, the same trials in the same order, the same curves, and the same counts, best and baselines
// as a full sort and tally of the trials.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyEvent } from '../../src/shared/live_view.js';
import { curveRestarted, olderThan } from '../../src/shared/attempts.js';
import { retally, tally } from '../../src/shared/summary.js';
import type { StudyEvent, StudyView, TrialSummary } from '../../src/study/api_types.js';
import type { TrialRecord, TrialRole, TrialState } from '../../src/study/types.js';
import { fixtureStudy, rng, trial } from './fixtures/study.js';

const ROLES: TrialRole[] = ['search', 'search', 'search', 'enqueued', 'baseline:batchnorm', 'baseline:paper', 'race:2', 'final:best', 'warm-start'];
const STATES: TrialState[] = ['WAITING', 'RUNNING', 'COMPLETE', 'COMPLETE', 'PRUNED', 'FAIL'];

/** The rule applyEvent must keep, written the plain way: find, replace or append, sort, tally everything. */
function reference(view: StudyView, event: StudyEvent): void {
  if (event.type === 'trial') {
    const i = view.trials.findIndex((t) => t.id === event.trial.id);
    const was = i >= 0 ? view.trials[i]! : undefined;
    if (was && olderThan(event.trial, was)) return;
    if (was) view.trials[i] = { ...event.trial, intermediate: curveRestarted(was, event.trial) ? [] : was.intermediate };
    else view.trials.push({ ...event.trial, intermediate: [] });
    view.trials.sort((a, b) => a.number - b.number);
    Object.assign(view, tally(view.trials, view.direction));
  } else if (event.type === 'report') {
    const t = view.trials.find((x) => x.id === event.trialId)!;
    const at = t.intermediate.findIndex((p) => p.step >= event.point.step);
    if (at >= 0 && t.intermediate[at]!.step === event.point.step) return;
    if (at < 0) t.intermediate.push(event.point);
    else t.intermediate.splice(at, 0, event.point);
  }
}

/** Random events over a study: new trials (mostly in number order, some late), any trial changed any way, curve points. */
function* events(seed: number, count: number, start: TrialRecord[]): Generator<StudyEvent> {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const known = start.map((t) => ({ ...t }));
  let nextNumber = Math.max(-1, ...known.map((t) => t.number)) + 1;
  const skipped: number[] = [];
  for (let k = 0; k < count; k++) {
    const u = r();
    if (u < 0.25 || known.length === 0) {
      // A new trial: usually the next number, sometimes one skipped earlier arriving late.
      let number: number;
      if (skipped.length > 0 && r() < 0.3) number = skipped.splice(Math.floor(r() * skipped.length), 1)[0]!;
      else {
        if (r() < 0.1) skipped.push(nextNumber++);
        number = nextNumber++;
      }
      const state = pick(STATES);
      const t = trial({ id: 10_000 + number, number, role: pick(ROLES), state, value: state === 'COMPLETE' || state === 'PRUNED' ? Math.round(r() * 20) / 20 : null });
      known.push(t);
      yield { type: 'trial', studyId: 's1', trial: summary(t) };
    } else if (u < 0.6) {
      // Any trial changed: a new state or value (ties on purpose), a new attempt, the best one demoted included.
      const t = pick(known);
      t.state = pick(STATES);
      t.value = t.state === 'COMPLETE' || t.state === 'PRUNED' ? Math.round(r() * 20) / 20 : null;
      if (r() < 0.15) t.role = pick(ROLES);
      if (r() < 0.3) {
        t.lease = { owner: 'w', token: Math.floor(r() * 3), expiresAt: '2026-01-01T00:01:00.000Z' };
        t.claims = t.lease.token;
      }
      if (r() < 0.2) t.startedAt = `2026-01-01T00:00:0${Math.floor(r() * 3)}.000Z`;
      yield { type: 'trial', studyId: 's1', trial: summary(t) };
    } else {
      const t = pick(known);
      const step = r() < 0.7 ? (k + 1) * 10 : Math.floor(r() * k) * 10;
      yield { type: 'report', studyId: 's1', trialId: t.id, number: t.number, point: { step, value: r() } };
    }
  }
}

function summary(t: TrialRecord): TrialSummary {
  const { intermediate: _, ...rest } = t;
  return rest;
}

function assertSame(got: StudyView, want: StudyView, where: string): void {
  assert.deepEqual(got.trials, want.trials, `${where}: the trials`);
  assert.deepEqual(got.counts, want.counts, `${where}: the counts`);
  assert.deepEqual(got.best, want.best, `${where}: the best`);
  assert.deepEqual(got.baselines, want.baselines, `${where}: the baselines`);
}

test('applyEvent keeps the page equal to a full sort and tally after every one of thousands of random events', () => {
  for (const [seed, direction] of [[1, 'maximize'], [2, 'minimize'], [3, 'maximize']] as const) {
    const start = fixtureStudy(12, seed);
    start.direction = direction;
    const page = structuredClone(start);
    const want = structuredClone(start);
    let k = 0;
    for (const event of events(seed, 1500, start.trials)) {
      // Every trial a report names exists on the page: the generator only reports on trials it announced or started with.
      assert.equal(applyEvent(page, event), true, `event ${k} applied`);
      reference(want, event);
      assertSame(page, want, `seed ${seed}, after event ${k} (${event.type})`);
      k++;
    }
  }
});

test('a view refetched (a new trial list) is indexed afresh; a report for a trial the page lacks asks for a refetch', () => {
  const first = fixtureStudy(4, 9);
  const t = first.trials[3]!;
  assert.equal(applyEvent(first, { type: 'report', studyId: 's1', trialId: t.id, number: t.number, point: { step: 10_000, value: 0.5 } }), true);
  // The refetched view holds a trial the first did not; its events go to it, and the old index is not consulted.
  const again = fixtureStudy(5, 9);
  again.trials = again.trials.reverse();
  const extra = again.trials.find((x) => !first.trials.some((y) => y.id === x.id))!;
  assert.equal(applyEvent(again, { type: 'report', studyId: 's1', trialId: extra.id, number: extra.number, point: { step: 10_000, value: 0.5 } }), true);
  assert.deepEqual(again.trials.map((x) => x.number), [...again.trials].map((x) => x.number).sort((a, b) => a - b), 'sorted by number when indexed');
  assert.equal(again.trials.find((x) => x.id === extra.id)!.intermediate.at(-1)!.step, 10_000);
  assert.equal(applyEvent(again, { type: 'report', studyId: 's1', trialId: 99_999, number: 99_998, point: { step: 1, value: 0.5 } }), false);
});

test('retally equals tally after each change, whichever trial changes, in both directions', () => {
  for (const direction of ['maximize', 'minimize'] as const) {
    const r = rng(direction.length);
    const trials: TrialRecord[] = [];
    let before = tally(trials, direction);
    for (let k = 0; k < 4000; k++) {
      const fresh = trials.length === 0 || r() < 0.3;
      const was = fresh ? undefined : trials[Math.floor(r() * trials.length)]!;
      const state = STATES[Math.floor(r() * STATES.length)]!;
      const now = trial({
        id: was?.id ?? k + 1, number: was?.number ?? k, state,
        role: r() < 0.8 && was ? was.role : ROLES[Math.floor(r() * ROLES.length)]!,
        value: state === 'COMPLETE' ? (r() < 0.05 ? Number.NaN : Math.round(r() * 10) / 10) : null,
      });
      if (was) trials[trials.indexOf(was)] = now;
      else trials.push(now);
      before = retally(before, was, now, trials, direction);
      assert.deepEqual(before, tally(trials, direction), `${direction}, change ${k}`);
    }
  }
});

test('a trial event overtaken by what the page holds (sent before the view it fetched was read) is ignored; a later attempt is not', () => {
  const view = fixtureStudy(0, 1);
  const lease = (token: number) => ({ owner: 'w', token, expiresAt: '2026-01-01T00:01:00.000Z' });
  const running = trial({ id: 1000, number: 100, state: 'RUNNING', value: null });
  running.lease = lease(1);
  running.claims = 1;
  running.startedAt = '2026-01-01T00:00:00.000Z';
  const done = { ...running, state: 'COMPLETE' as const, value: 0.9, lease: null, finishedAt: '2026-01-01T00:00:09.000Z' };
  const at = () => view.trials.find((t) => t.id === 1000)!;
  assert.equal(applyEvent(view, { type: 'trial', studyId: 's1', trial: summary(done) }), true);
  assert.equal(applyEvent(view, { type: 'trial', studyId: 's1', trial: summary(running) }), true, 'ignored, not a refetch');
  assert.equal(at().state, 'COMPLETE', 'a finished trial does not show running again');
  assert.equal(view.counts.COMPLETE, 3, 'the two baselines and it');
  // A requeued trial (its lease expired: one more retry) and its next claim are later attempts.
  const view2 = fixtureStudy(0, 1);
  const at2 = () => view2.trials.find((t) => t.id === 1000)!;
  const requeued = { ...running, state: 'WAITING' as const, lease: null, retries: 1 };
  const reclaimed = { ...running, retries: 1, lease: lease(2), claims: 2, startedAt: '2026-01-01T00:00:05.000Z' };
  applyEvent(view2, { type: 'trial', studyId: 's1', trial: summary(running) });
  applyEvent(view2, { type: 'report', studyId: 's1', trialId: 1000, number: 100, point: { step: 10, value: 0.5 } });
  applyEvent(view2, { type: 'trial', studyId: 's1', trial: summary(requeued) });
  assert.equal(at2().state, 'WAITING');
  assert.equal(applyEvent(view2, { type: 'trial', studyId: 's1', trial: summary(running) }), true);
  assert.equal(at2().state, 'WAITING', 'the first attempt, arriving late, does not undo the requeue');
  applyEvent(view2, { type: 'trial', studyId: 's1', trial: summary(reclaimed) });
  assert.deepEqual([at2().state, at2().lease?.token], ['RUNNING', 2], 'the next claim is applied');
  assert.equal(applyEvent(view2, { type: 'trial', studyId: 's1', trial: summary({ ...reclaimed, lease: lease(1), claims: 1 }) }), true);
  assert.equal(at2().lease?.token, 2, 'an older claim is not');
  // A trial handed back (release: no retry counted) and its next claim: the claim count orders them.
  const view3 = fixtureStudy(0, 1);
  const at3 = () => view3.trials.find((t) => t.id === 1000)!;
  const released = { ...running, state: 'WAITING' as const, lease: null, startedAt: null };
  const claimedAgain = { ...running, lease: lease(2), claims: 2, startedAt: '2026-01-01T00:00:05.000Z' };
  applyEvent(view3, { type: 'trial', studyId: 's1', trial: summary(released) });
  assert.equal(applyEvent(view3, { type: 'trial', studyId: 's1', trial: summary(running) }), true);
  assert.equal(at3().state, 'WAITING', 'the claim it was handed back from, arriving late, does not show it running');
  applyEvent(view3, { type: 'trial', studyId: 's1', trial: summary(claimedAgain) });
  assert.deepEqual([at3().state, at3().lease?.token], ['RUNNING', 2], 'its next claim is applied');
  applyEvent(view3, { type: 'trial', studyId: 's1', trial: summary(released) });
  assert.deepEqual([at3().state, at3().lease?.token], ['RUNNING', 2], 'and the earlier hand-back, arriving late, does not undo it');
});
