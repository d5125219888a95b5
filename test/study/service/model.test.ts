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
