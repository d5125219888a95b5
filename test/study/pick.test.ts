// Picking the tuned schedule for final validation: racing the top candidates on common fresh seeds instead of trusting one noisy value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { racePicker, type RaceOptions } from '../../src/study/pick.js';
import { raceSeed } from '../../src/study/seeds.js';
import type { TrialRecord } from '../../src/study/types.js';
import { trialMaker } from './evidence/trials.js';

const opts = (over: Partial<RaceOptions> = {}): RaceOptions => ({ candidates: 3, seeds: 2, studySeed: 9, direction: 'maximize', seedsPerTrial: 1, ...over });

/** Finishes the race runs a picker asks for with `value(candidate number, j)`. */
function runRace(make: ReturnType<typeof trialMaker>, trials: TrialRecord[], wanted: ReturnType<ReturnType<typeof racePicker>['extraRuns']>, value: (n: number, j: number) => number | null) {
  for (const w of wanted) {
    const n = Number(w.role.slice(5));
    const j = Number(w.key!.split(':')[2]);
    trials.push(make(w.role, value(n, j), { seed: w.seed!, schedule: w.schedule }));
  }
}

test('race: the top tuned trials (never the baselines) run on the same fresh seeds, keyed; the pick waits for them', () => {
  const make = trialMaker();
  const trials = [make('baseline:paper', 0.99), make('search', 0.9), make('search', 0.95), make('search', 0.93), make('search', 0.8), make('search', null)];
  const p = racePicker(opts());
  const wanted = p.extraRuns(trials);
  assert.deepEqual(wanted.map((w) => w.role), ['race:2', 'race:2', 'race:3', 'race:3', 'race:1', 'race:1'], 'the top 3 search values, best first');
  assert.deepEqual(wanted.map((w) => w.key), ['race:2:0', 'race:2:1', 'race:3:0', 'race:3:1', 'race:1:0', 'race:1:1']);
  assert.deepEqual(wanted.map((w) => w.seed), [0, 1, 0, 1, 0, 1].map((j) => raceSeed(9, j)), 'common seeds: every candidate meets the same luck');
  assert.ok(wanted.every((w) => w.state === 'WAITING' && JSON.stringify(w.schedule) === JSON.stringify(trials.find((t) => `race:${t.number}` === w.role)!.schedule)));
  assert.deepEqual(p.pick(trials), { ready: false });
  runRace(make, trials, wanted.slice(0, 5), () => 0.9);
  assert.deepEqual(p.pick(trials), { ready: false }, 'one race run still missing');
});

test('race: a lucky single value loses to a schedule that is good on every seed', () => {
  const make = trialMaker();
  const trials = [make('search', 0.95), make('search', 0.93), make('search', 0.92)];
  const p = racePicker(opts());
  // #0 was a lucky draw (its fresh seeds give 0.90); #1 is consistently 0.93.
  runRace(make, trials, p.extraRuns(trials), (n) => (n === 0 ? 0.9 : n === 1 ? 0.93 : 0.91));
  const s = p.pick(trials);
  assert.equal(s.ready, true);
  const pick = (s as { pick: NonNullable<unknown> & { trialNumber: number; estimate: number; runs: number; pickedBy: string } }).pick;
  assert.equal(pick.trialNumber, 1);
  assert.ok(Math.abs(pick.estimate - 0.93) < 1e-12);
  assert.equal(pick.runs, 3);
  assert.equal(pick.pickedBy, 'race: the top 3 tuned trials on 2 more validation seeds each; best mean over all runs (#1 0.9300, #0 0.9167, #2 0.9133)');
});

test('race: a failed race run counts as run (without a value); minimising direction; seedsPerTrial weighs the search value', () => {
  const make = trialMaker();
  const trials = [make('search', 0.2), make('search', 0.25)];
  const p = racePicker(opts({ direction: 'minimize', seedsPerTrial: 3, candidates: 2, seeds: 1 }));
  runRace(make, trials, p.extraRuns(trials), (n) => (n === 0 ? null : 0.1));
  const s = p.pick(trials) as { ready: true; pick: { trialNumber: number; estimate: number; runs: number } };
  assert.equal(s.ready, true);
  // #0: only its search value (0.2, 3 seeds); #1: (0.25 * 3 + 0.1) / 4 = 0.2125. Lower is better.
  assert.equal(s.pick.trialNumber, 0);
  assert.equal(s.pick.runs, 3);
});

test('no race: candidates 1, a single tuned trial, or no tuned trial at all', () => {
  const make = trialMaker();
  const one = [make('baseline:batchnorm', 0.99), make('search', 0.9)];
  const racing = racePicker(opts());
  assert.deepEqual(racing.extraRuns(one), [], 'nothing to race against');
  assert.equal((racing.pick(one) as { pick: { trialNumber: number } }).pick.trialNumber, 1);
  const off = racePicker(opts({ candidates: 1 }));
  const many = [make('search', 0.9), make('search', 0.95)];
  assert.deepEqual(off.extraRuns(many), []);
  const s = off.pick(many) as { ready: true; pick: { trialNumber: number; pickedBy: string } };
  assert.equal(s.pick.trialNumber, 3);
  assert.match(s.pick.pickedBy, /best search value/);
  assert.deepEqual(racing.pick([make('baseline:paper', 0.9)]), { ready: true, pick: null });
});
