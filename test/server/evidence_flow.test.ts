// An outside trainer over HTTP, end to end: baselines first, the search, the race, final runs on the test set at two run lengths, the verdict.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningServer } from '../../src/server/index.js';
import { createStudyService } from '../../src/study/service/defaults.js';
import { MemoryStorage } from '../../src/study/storage/index.js';
import { call, start } from './helpers.js';
import { runNoise } from '../fixtures/rng.js';

interface Asked { id: number; number: number; role: string; schedule: { kind: string }; seed: number; evaluateOn: string; stepsMultiplier: number; steps: number; totalSteps: number; lease: { token: number } }

/** The outside trainer's truth: BatchNorm 0.80, paper 0.85, any tuned ramp 0.90; a seed moves every schedule alike. */
function train(t: Asked): number {
  const base = t.schedule.kind === 'batchnorm' ? 0.8 : t.schedule.kind === 'paper' ? 0.85 : 0.9;
  const seedEffect = ((t.seed % 97) / 97 - 0.5) * 0.04;
  const own = runNoise(t.seed, t.number) * 0.002;
  return base + seedEffect + own - (t.evaluateOn === 'test' ? 0.01 : 0);
}

describe('evidence for an outside trainer over HTTP', () => {
  let srv: RunningServer;
  before(async () => {
    srv = await start({ api: createStudyService(new MemoryStorage()) });
  });
  after(() => srv.close());

  const ask = async (id: string, count: number) => call(srv.url, 'POST', `/api/studies/${id}/ask`, { count });
  const tell = async (id: string, t: Asked, value: number) => {
    const r = await call(srv.url, 'POST', `/api/studies/${id}/trials/${t.number}/tell`, { value, token: t.lease.token });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  };

  it('hands out the baselines first, then the search, the race and the final runs; the study ends with paired verdicts', async () => {
    const created = await call(srv.url, 'POST', '/api/studies', {
      name: 'outside-evidence', executor: 'external', scenario: { dataset: 'mnist', steps: 1000 }, budget: { trials: 5 }, optimizer: { type: 'random' },
      finalValidation: { seeds: 3, stepsMultipliers: [1, 2], race: { candidates: 2, seeds: 1 } },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.id as string;

    const first = (await ask(id, 2)).body.trials as Asked[];
    assert.deepEqual(first.map((t) => [t.role, t.schedule.kind, t.evaluateOn]), [['baseline:batchnorm', 'batchnorm', 'validation'], ['baseline:paper', 'paper', 'validation']]);
    for (const t of first) await tell(id, t, train(t));

    const search = (await ask(id, 5)).body.trials as Asked[];
    assert.deepEqual(search.map((t) => t.role), ['search', 'search', 'search'], 'the budget (5) counts the baselines');
    await tell(id, search[0]!, train(search[0]!));
    await tell(id, search[1]!, train(search[1]!));
    const waiting = await ask(id, 1);
    assert.equal(waiting.status, 200);
    assert.deepEqual(waiting.body.trials, [], 'another trainer holds the last search trial: nothing to hand out yet, ask again');
    await tell(id, search[2]!, train(search[2]!));

    // The evidence phase, as a trainer loop: ask, train, tell, until 409.
    const handed: Asked[] = [];
    let completeBeforeAsking = false;
    for (let round = 0; round < 50; round++) {
      completeBeforeAsking = (await call(srv.url, 'GET', `/api/studies/${id}`)).body.state === 'COMPLETE';
      const r = await ask(id, 4);
      if (r.status === 409) {
        assert.equal(r.body.error.code, 'BUDGET_EXHAUSTED');
        break;
      }
      assert.equal(r.status, 200, JSON.stringify(r.body));
      for (const t of r.body.trials as Asked[]) {
        handed.push(t);
        await tell(id, t, train(t));
      }
    }
    const race = handed.filter((t) => t.role.startsWith('race:'));
    const finals = handed.filter((t) => t.role.startsWith('final:'));
    assert.equal(race.length, 2, 'the top 2 tuned trials, one more validation seed each');
    assert.ok(race.every((t) => t.evaluateOn === 'validation' && t.stepsMultiplier === 1));
    assert.ok(handed.indexOf(race[1]!) < handed.findIndex((t) => t.role === 'final:best'), 'the winner is retrained only once the race has finished');
    assert.equal(finals.length, 3 * 3 * 2, '3 arms x 3 seeds x 2 run lengths');
    assert.ok(finals.every((t) => t.evaluateOn === 'test'), 'final runs say: score me on the test set');
    for (const t of finals) {
      const long = t.role.endsWith('@x2');
      assert.deepEqual([t.stepsMultiplier, t.steps, t.totalSteps], long ? [2, 2000, 2000] : [1, 1000, 1000], t.role);
    }
    const seedsOf = (role: string) => finals.filter((t) => t.role === role).map((t) => t.seed).sort();
    assert.deepEqual(seedsOf('final:best'), seedsOf('final:paper'), 'paired seeds');
    assert.deepEqual(seedsOf('final:best@x2'), seedsOf('final:batchnorm'));

    const view = (await call(srv.url, 'GET', `/api/studies/${id}`)).body;
    assert.equal(view.state, 'COMPLETE');
    assert.ok(completeBeforeAsking, 'the last tell ended the study; the trainer need not ask again');
    const fv = view.finalValidation;
    assert.equal(fv.version, 2);
    assert.equal(fv.metric, 'valAccuracy', 'an outside trainer reports the study\'s own metric, on its test set');
    assert.equal(fv.seeds.length, 3);
    assert.equal(fv.pending, 0);
    assert.deepEqual(fv.byMultiplier.map((g: { multiplier: number; steps: number }) => [g.multiplier, g.steps]), [[1, 1000], [2, 2000]]);
    for (const g of fv.byMultiplier) {
      assert.deepEqual(g.comparisons.map((c: { b: string; verdict: string }) => [c.b, c.verdict]), [['paper', 'better'], ['batchnorm', 'better']]);
      for (const c of g.comparisons) assert.ok(c.ci[0] > 0 && Math.abs(c.meanDiff - (c.b === 'paper' ? 0.05 : 0.1)) < 0.003, JSON.stringify(c));
    }
    for (const a of Object.values(fv.arms) as { ci: [number, number] }[]) assert.ok(a.ci[0] >= 0 && a.ci[1] <= 1);

    const exp = (await call(srv.url, 'GET', `/api/studies/${id}/best-schedule`)).body;
    assert.equal(exp.winner, 'tuned');
    assert.equal(exp.evidence, 'paired-final');
    assert.match(exp.verdict, /better than the paper schedule: \+(4\.9\d|5\.0\d) pts/);
  });

  it('a study that opts out of baselines asks only for search trials, and its export says "no baseline measured"', async () => {
    const created = await call(srv.url, 'POST', '/api/studies', {
      name: 'outside-no-baselines', executor: 'external', scenario: { dataset: 'mnist', steps: 1000 }, budget: { trials: 3 }, optimizer: { type: 'random' },
      baselines: false, finalValidation: { seeds: 0, race: { candidates: 1 } },
    });
    const id = created.body.id as string;
    const asked = (await ask(id, 5)).body.trials as Asked[];
    assert.deepEqual(asked.map((t) => t.role), ['search', 'search', 'search']);
    await tell(id, asked[0]!, train(asked[0]!));
    assert.equal((await ask(id, 1)).status, 409, 'nothing left to hand out');
    assert.equal((await call(srv.url, 'GET', `/api/studies/${id}`)).body.state, 'RUNNING', 'two trials are still out');
    for (const t of asked.slice(1)) await tell(id, t, train(t));
    assert.equal((await ask(id, 1)).status, 409);
    assert.equal((await call(srv.url, 'GET', `/api/studies/${id}`)).body.state, 'COMPLETE', '409 BUDGET_EXHAUSTED with nothing out: the study is done');
    const exp = (await call(srv.url, 'GET', `/api/studies/${id}/best-schedule`)).body;
    assert.equal(exp.winner, null, 'not "tuned": there is nothing it was compared with');
    assert.equal(exp.evidence, 'none');
    assert.match(exp.verdict, /^no baseline measured \(the study opted out with baselines: false\)/);
  });
});
