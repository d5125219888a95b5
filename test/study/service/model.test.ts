// The optimizer's model through the service (a worker thread per study): importance, the posterior-mean recommendation, and the export's use of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStudyService } from '../../../src/study/service/defaults.js';
import { MemoryStorage } from '../../../src/study/storage/index.js';
import { baseConfig } from './fakes.js';
import { showText } from '../../../src/cli/study.js';

/** Depends on rmaxFinal and dmaxFinal only: the other five schedule parameters are inert. */
const objective = (p: Record<string, unknown>) => 0.95 - 0.02 * (Math.log(Number(p.rmaxFinal)) - Math.log(3)) ** 2 - 0.004 * (Number(p.dmaxFinal) - 4) ** 2;

test('importance, recommendation and export over a real GP study in a worker thread: inert parameters get small shares', { timeout: 240_000 }, async () => {
  const svc = createStudyService(new MemoryStorage());
  try {
    const s = await svc.createStudy(baseConfig({
      executor: 'external', budget: { trials: 40 }, optimizer: { type: 'gp', initialTrials: 10 }, seed: 5,
      baselines: false, finalValidation: { seeds: 0, race: { candidates: 1 } },
    }));
    const early = await svc.importance(s.id);
    assert.equal(early.available, false, 'no model before any finished trial');
    for (let i = 0; i < 30; i++) {
      for (const t of await svc.ask(s.id, 1)) await svc.tell(s.id, t.id, { value: objective(t.params) });
    }
    const imp = await svc.importance(s.name);
    assert.equal(imp.available, true, imp.reason);
    const shares = imp.importance!;
    const total = Object.values(shares).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(total - 1) < 1e-6, `shares sum to 1 (${total})`);
    const ranked = Object.keys(shares);
    assert.deepEqual(new Set(ranked.slice(0, 2)), new Set(['rmaxFinal', 'dmaxFinal']), `the two live parameters lead: ${JSON.stringify(shares)}`);
    for (const inert of ['warmup', 'rmaxEndFrac', 'dmaxEndFrac', 'shape', 'renormMomentum']) {
      assert.ok(shares[inert]! < 0.05, `${inert} is inert: ${shares[inert]}`);
    }
    assert.deepEqual(imp.tentative, [], `at 40 trials the live parameters' shares are needed: ${JSON.stringify(imp)}`);
    // `show` marks a share the trials do not yet need, and says what that means.
    const view = await svc.getStudyView(s.id);
    assert.match(showText(view, { recommendation: null, importance: imp }), /\nimportance (rmaxFinal|dmaxFinal) \d+%, (dmaxFinal|rmaxFinal) \d+%, [^\n(]*\n(?! {11}tentative)/);
    const marked = showText(view, { recommendation: null, importance: { ...imp, tentative: ['warmup'] } });
    assert.match(marked, /, warmup \d+% \(tentative\)/);
    assert.match(marked, /\n {11}tentative: the trials fit about as well without warmup; more trials will tell\n/);
    const rec = (await svc.recommendation(s.id))!;
    assert.ok(rec.trialNumber !== null, 'the recommendation is one of the observed trials');
    assert.ok(rec.sd !== null && rec.sd >= 0);
    assert.ok(Math.abs(rec.mean - rec.observed!) < 0.05, `the prediction is near what was measured there (${rec.mean} vs ${rec.observed})`);
    const exp = (await svc.bestSchedule(s.id)) as unknown as { model?: { trialNumber: number; predicted: number; measured: number }; trialNumber: number };
    assert.equal(exp.model?.trialNumber, rec.trialNumber, 'the export shows the model\'s prediction next to the measured value');
    assert.equal(exp.trialNumber, rec.trialNumber, 'with no race or final validation, the export recommends the model\'s pick');
    // One point queued twice (an export enqueued twice: the README's round trip) and measured best of all, the later
    // trial told first: whichever of the two the recommendation names, the measurement beside the prediction is that
    // trial's own (it named the first and showed the other's).
    const top = { kind: 'ramp' as const, shape: 'linear' as const, warmup: 0.1, rmaxFinal: 3, rmaxEnd: 0.6, dmaxFinal: 4, dmaxEnd: 0.5 };
    const [e1, e2] = [await svc.enqueue(s.id, top, { renormMomentum: 0.95 }), await svc.enqueue(s.id, top, { renormMomentum: 0.95 })];
    assert.deepEqual(e1!.params, e2!.params, 'the same point of the space');
    const asked = await svc.ask(s.id, 2);
    assert.deepEqual(asked.map((t) => t.id), [e1!.id, e2!.id]);
    await svc.tell(s.id, e2!.id, { value: 0.97 });
    await svc.tell(s.id, e1!.id, { value: 0.965 });
    const measured = new Map((await svc.listTrials(s.id)).map((t) => [t.number, t.value]));
    const twice = (await svc.recommendation(s.id))!;
    assert.ok([e1!.number, e2!.number].includes(twice.trialNumber!), `the point measured best, twice: #${twice.trialNumber}`);
    assert.equal(twice.observed, measured.get(twice.trialNumber!), `#${twice.trialNumber}'s own measurement`);
    const model = ((await svc.bestSchedule(s.id)) as unknown as { model: { trialNumber: number; measured: number } }).model;
    assert.equal(model.measured, measured.get(model.trialNumber));
  } finally {
    svc.close();
  }
});

test('a study whose trials all scored the same: importance says the model sees no variation, in the API and in `show`, with no shares', { timeout: 120_000 }, async () => {
  const svc = createStudyService(new MemoryStorage());
  try {
    const s = await svc.createStudy(baseConfig({
      executor: 'external', budget: { trials: 20 }, optimizer: { type: 'random' }, seed: 5,
      baselines: false, finalValidation: { seeds: 0, race: { candidates: 1 } },
    }));
    for (let i = 0; i < 12; i++) for (const t of await svc.ask(s.id, 1)) await svc.tell(s.id, t.id, { value: 0.9 });
    const imp = await svc.importance(s.id);
    assert.equal(imp.status, 'flat', JSON.stringify(imp));
    assert.equal(imp.available, false);
    assert.equal(imp.importance, undefined, 'no shares: equal ones would read as every parameter mattering as much');
    assert.match(imp.reason ?? '', /^the model sees no variation: every finished trial has the same value$/);
    const text = showText(await svc.getStudyView(s.id), { recommendation: null, importance: imp });
    assert.match(text, /\nimportance unavailable: the model sees no variation: every finished trial has the same value\n/);
  } finally {
    svc.close();
  }
});
