// A page that applies a study's live events from the moment it loaded holds what a reload would show at the end:
// trials, curves, state, and the evidence phase's verdict (the final-validation report) and warm-start report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { applyEvent } from '../../../src/shared/live_view.js';
import type { StudyView as PageView } from '../../../dashboard/types.js';
import type { StudyEvent } from '../../../src/study/api_types.js';
import { runStudy } from '../../../src/study/runner.js';
import { StudyService } from '../../../src/study/service.js';
import { BudgetExhaustedError } from '../../../src/study/errors.js';
import { MemoryStorage } from '../../../src/study/storage/index.js';
import { freshStore } from '../../fixtures/stores.js';
import { baseConfig, fakeDeps } from './fakes.js';

const trainer = fileURLToPath(new URL('../../fixtures/workers/fake_trainer.js', import.meta.url));

/** What a page shows of the study, less what moves on its own (lease expiries, the search clock). */
function shown(v: PageView) {
  return {
    state: v.state,
    counts: v.counts,
    best: v.best,
    finalValidation: v.finalValidation,
    warmStart: v.warmStart,
    totalSteps: v.totalSteps,
    // Every field of every trial, its whole curve (metrics included) and lease holder, but not the lease's expiry.
    trials: v.trials.map(({ lease, intermediate, ...t }) => ({ ...t, lease: lease && { owner: lease.owner, token: lease.token }, curve: intermediate })),
  };
}

for (const pruner of ['none', 'median'] as const) {
test(`live view: a local run with its evidence phase (pruner ${pruner}), its events applied to the page from the start, equals a reload at the end`, async () => {
  const service = new StudyService(new MemoryStorage(), fakeDeps(), { watchIntervalMs: 50 });
  const study = await service.createStudy(baseConfig({
    budget: { trials: pruner === 'none' ? 5 : 10 }, workers: 2, finalValidation: { seeds: 2, race: { candidates: 2, seeds: 1 } },
    pruner: pruner === 'none' ? pruner : { type: pruner, warmupSteps: 0, minTrials: 1 },
  }));
  const page = (await service.getStudyView(study.id)) as unknown as PageView;
  const events: StudyEvent[] = [];
  const off = await service.subscribe(study.id, (e) => events.push(e));
  const res = await runStudy(study.id, { service, workerFile: trainer });
  off();
  assert.equal(res.state, 'COMPLETE');
  let reloads = 0;
  for (const e of events) if (!applyEvent(page, e as never)) reloads++;
  const fresh = (await service.getStudyView(study.id)) as unknown as PageView;
  assert.ok(fresh.finalValidation, 'the run ended with a final-validation report');
  if (pruner !== 'none') assert.ok(fresh.trials.some((t) => t.state === 'PRUNED'), 'the pruner stopped a trial');
  assert.deepEqual(shown(page), shown(fresh), `the events (${reloads} asking for a reload) rebuilt what a reload shows`);
});
}

for (const watchIntervalMs of [0, 50]) {
test(`live view: an outside trainer's study through its evidence phase (asks, reports, tells, a hand-back), its events applied from the start, equals a reload at the end (${watchIntervalMs ? 'also watching for other processes' : 'events of this process alone'})`, async () => {
  const service = new StudyService(new MemoryStorage(), fakeDeps(), { watchIntervalMs });
  const study = await service.createStudy(baseConfig({ executor: 'external', budget: { trials: 5 }, finalValidation: { seeds: 2, race: { candidates: 2, seeds: 1 } } }));
  const page = (await service.getStudyView(study.id)) as unknown as PageView;
  const events: StudyEvent[] = [];
  const off = await service.subscribe(study.id, (e) => events.push(e));
  let released = false;
  let reports = 0;
  for (let round = 0; round < 50; round++) {
    let asked;
    try {
      asked = await service.ask(study.id, 3);
    } catch (err) {
      if (err instanceof BudgetExhaustedError) break;
      throw err;
    }
    for (const t of asked) {
      // A different value at every report: a handed-back trial's curve starts over, and its new point must replace the old.
      await service.report(study.id, t.id, 10, 0.3 + 0.001 * ++reports, { token: t.lease!.token });
      if (!released && t.role === 'search') {
        released = true;
        await service.release(study.id, t.id, t.lease!.token);
        continue;
      }
      await service.tell(study.id, t.id, { value: 0.5 + 0.01 * t.number }, { token: t.lease!.token });
    }
  }
  off();
  assert.equal((await service.resolve(study.id)).state, 'COMPLETE');
  let reloads = 0;
  for (const e of events) if (!applyEvent(page, e as never)) reloads++;
  const fresh = (await service.getStudyView(study.id)) as unknown as PageView;
  assert.ok(released && fresh.finalValidation, 'a trial was handed back, and the study ended with a final-validation report');
  assert.deepEqual(shown(page), shown(fresh), `the events (${reloads} asking for a reload) rebuilt what a reload shows`);
});
}

for (const kind of ['memory', 'sqlite', 'postgres'] as const) {
test(`live view: a local run in another process (its own ${kind} store connection), its events applied to this process's page from the start, ends equal to a reload`, { timeout: 120_000 }, async (t) => {
  // Two connections to one store, as two processes hold: the viewer's and the runner's.
  const stores = await freshStore(kind, 'live_view', 2);
  if ('unavailable' in stores) return t.skip(stores.unavailable);
  const viewer = new StudyService(stores.connections[0]!, fakeDeps(), { watchIntervalMs: 20 });
  const runner = new StudyService(stores.connections[1]!, fakeDeps(), { watchIntervalMs: 0 });
  try {
    const study = await runner.createStudy(baseConfig({
      budget: { trials: 10 }, workers: 2, finalValidation: { seeds: 2, race: { candidates: 2, seeds: 1 } }, pruner: { type: 'median', warmupSteps: 0, minTrials: 1 },
    }));
    const page = (await viewer.getStudyView(study.id)) as unknown as PageView;
    const events: StudyEvent[] = [];
    const off = await viewer.subscribe(study.id, (e) => events.push(e));
    const res = await runStudy(study.id, { service: runner, workerFile: trainer });
    assert.equal(res.state, 'COMPLETE');
    const fresh = shown((await viewer.getStudyView(study.id)) as unknown as PageView);
    let applied = 0;
    let reloads = 0;
    // Until the viewer's looks have caught up with the run's last write (20 s at most).
    for (let i = 0; ; i++) {
      for (; applied < events.length; applied++) if (!applyEvent(page, events[applied] as never)) reloads++;
      if (JSON.stringify(shown(page)) === JSON.stringify(fresh) || i > 1000) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    off();
    assert.equal(reloads, 0, 'nothing asked for a reload');
    assert.deepEqual(shown(page), fresh, 'the events rebuilt what a reload shows');
  } finally {
    viewer.close();
    runner.close();
    await stores.close();
  }
});
}
