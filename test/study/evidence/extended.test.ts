// A study extended after its evidence phase searches on, and its evidence follows: a better tuned schedule found by
// the extension is raced, retrained on the final seeds and recommended; the earlier pick's runs are left out of the
// report, not mixed into it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AskedTrial } from '../../../src/study/api_types.js';
import type { PickRecord } from '../../../src/study/evidence.js';
import type { StudyExport } from '../../../src/study/export.js';
import { createStudyService } from '../../../src/study/service/defaults.js';
import type { StudyService } from '../../../src/study/service.js';
import { MemoryStorage } from '../../../src/study/storage/index.js';
import { PgStorage } from '../../../src/study/storage/postgres.js';
import type { Storage } from '../../../src/study/types.js';
import { createTestDatabase } from '../../fixtures/pg.js';
import { validateStudyConfig } from '../../../src/study/config.js';
import type { FinalValidationReport } from '../../../src/shared/evidence.js';
import { showText } from '../../../src/cli/study.js';
import { tableRows } from '../../../dashboard/data/table.js';

/** Asks one at a time until the study has nothing left, telling each trial what `value` says. */
async function drain(service: StudyService, id: string, value: (t: AskedTrial) => number): Promise<void> {
  for (let round = 0; round < 100; round++) {
    const asked = await service.ask(id, 1).catch((e: { code?: string }) => (e.code === 'BUDGET_EXHAUSTED' ? null : Promise.reject(e)));
    if (asked === null) return;
    assert.ok(asked.length > 0, 'nobody else holds a run: an ask hands one out');
    for (const t of asked) await service.tell(id, t.id, { value: value(t) });
  }
  assert.fail('the study never ended');
}

/**
 * Final seeds: every run of a schedule measures the same truth, so each seed gives the same difference, which takes 6
 * seeds to count as evidence (meanInterval); the verdict decides whether the tuned schedule is recommended.
 */
const SEEDS = 6;

/**
 * Each tuned schedule's truth is fixed when first told (0.7, 0.66, ... 0.61 for the first six search schedules, 0.95
 * for any later one); race and final runs of a schedule measure that truth again. Baselines: paper 0.60, BatchNorm 0.50.
 */
function truths(): (t: AskedTrial) => number {
  const searchValues = [0.7, 0.66, 0.64, 0.63, 0.62, 0.61];
  const truth = new Map<string, number>();
  return (t) => {
    if (t.schedule.kind === 'paper') return 0.6;
    if (t.schedule.kind === 'batchnorm') return 0.5;
    const key = JSON.stringify(t.schedule);
    if (!truth.has(key)) truth.set(key, searchValues[truth.size] ?? 0.95);
    return truth.get(key)!;
  };
}

/** A fresh store of each kind: PostgreSQL stores params and schedules as jsonb, which orders keys its own way. */
const stores: Record<string, () => Promise<{ storage: Storage; done(): Promise<void> } | { unavailable: string }>> = {
  memory: async () => ({ storage: new MemoryStorage(), done: async () => {} }),
  postgres: async () => {
    const db = await createTestDatabase('extended');
    if ('unavailable' in db) return db;
    const storage = await PgStorage.connect(db.url);
    return { storage, done: async () => { await storage.close(); await db.drop(); } };
  },
};

for (const [store, open] of Object.entries(stores)) for (const race of [{ candidates: 2, seeds: 1 }, { candidates: 1 }]) {
  const label = race.candidates > 1 ? 'a race of 2' : 'no race (the GP\'s pick)';
  test(`${store}: extended after its final runs, with ${label}: the better schedule the extension finds is retrained and recommended`, { timeout: 120_000 }, async (t) => {
    const opened = await open();
    if ('unavailable' in opened) return t.skip(opened.unavailable);
    const service = createStudyService(opened.storage);
    try {
      const study = await service.createStudy(validateStudyConfig({
        name: 'extended', executor: 'external', totalSteps: 100, seed: 4, budget: { trials: 8 },
        objective: { metric: 'valAccuracy', direction: 'maximize', bounds: [0, 1] },
        optimizer: race.candidates > 1 ? { type: 'random' } : { type: 'gp', initialTrials: 4 },
        finalValidation: { seeds: SEEDS, race },
      }));
      const value = truths();
      await drain(service, study.id, value);
      const before = (await service.bestSchedule(study.id)) as StudyExport;
      assert.equal(before.winner, 'tuned');
      assert.equal(before.value, 0.7, 'before: the 0.7 schedule is recommended');

      // One more trial: it finds a schedule worth 0.95.
      await service.extendStudy(study.id, { trials: 9 });
      await service.resumeStudy(study.id);
      await drain(service, study.id, value);

      const trials = await service.listTrials(study.id);
      const found = trials.find((t) => t.role === 'search' && t.value === 0.95)!;
      assert.ok(found, 'the extension ran its trial');
      const stored = await service.resolve(study.id);
      const source = stored.attrs.finalValidationSource as PickRecord;
      assert.equal(source.best, found.id, `the pick moved to the extension's schedule: ${JSON.stringify(source)}`);
      const report = stored.attrs.finalValidation as FinalValidationReport;
      assert.equal(report.trialNumber, found.number);
      assert.equal(report.pending, 0);
      assert.deepEqual(report.arms.best!.values, Array(SEEDS).fill(0.95), 'the report holds the new pick\'s runs only');
      const bestRuns = trials.filter((t) => t.role === 'final:best');
      assert.equal(bestRuns.length, 2 * SEEDS, 'the new pick got runs of its own on the same seeds; the old ones stay, apart');
      assert.deepEqual(bestRuns.filter((t) => t.value === 0.95).map((t) => t.seed).sort(), bestRuns.filter((t) => t.value === 0.7).map((t) => t.seed).sort());
      assert.equal(trials.filter((t) => t.role === 'final:paper').length, SEEDS, 'the baselines\' final runs are reused, not rerun');
      const after = (await service.bestSchedule(study.id)) as StudyExport;
      assert.equal(after.trialNumber, found.number);
      assert.equal(after.evidence, 'paired-final');
      assert.deepEqual(after.schedule, found.schedule);

      // Where people read the trials (show's table, the dashboard's), the old pick's runs say they are not the report's.
      const view = await service.getStudyView(study.id);
      const earlier = new Set(bestRuns.filter((t) => t.value === 0.7).map((t) => t.number));
      const shown = showText(view).split('\n').filter((l) => /^#\d+ .*final best/.test(l));
      assert.equal(shown.length, 2 * SEEDS);
      for (const line of shown) {
        const number = Number(/^#(\d+)/.exec(line)![1]);
        assert.equal(/final best \(earlier pick\)/.test(line), earlier.has(number), `show: ${line}`);
      }
      const named = tableRows(view.trials, view.finalValidation).filter((r) => r.name.startsWith('final best'));
      assert.deepEqual(named.filter((r) => r.name.endsWith('(earlier pick)')).map((r) => r.number).sort(), [...earlier].sort());
      assert.equal(named.length, 2 * SEEDS);
    } finally {
      service.close();
      await opened.done();
    }
  });
}

test('no race, a pick recorded before picks kept their search count: extending the study still picks again', { timeout: 120_000 }, async () => {
  const service = createStudyService(new MemoryStorage());
  try {
    const study = await service.createStudy(validateStudyConfig({
      name: 'legacy-pick', executor: 'external', totalSteps: 100, seed: 4, budget: { trials: 8 },
      objective: { metric: 'valAccuracy', direction: 'maximize', bounds: [0, 1] },
      optimizer: { type: 'gp', initialTrials: 4 }, finalValidation: { seeds: SEEDS, race: { candidates: 1 } },
    }));
    const value = truths();
    await drain(service, study.id, value);
    // The record as an earlier version wrote it: no `searched`.
    const { searched, ...legacy } = (await service.resolve(study.id)).attrs.finalValidationSource as PickRecord;
    assert.equal(searched, 6, 'the current version counts the search trials behind a pick');
    await service.setStudyAttr(study.id, 'finalValidationSource', legacy);
    assert.equal(((await service.bestSchedule(study.id)) as StudyExport).value, 0.7, 'not extended: the legacy record is replayed');

    await service.extendStudy(study.id, { trials: 9 });
    await service.resumeStudy(study.id);
    await drain(service, study.id, value);
    const found = (await service.listTrials(study.id)).find((t) => t.role === 'search' && t.value === 0.95)!;
    const source = (await service.resolve(study.id)).attrs.finalValidationSource as PickRecord;
    assert.equal(source.best, found.id, `extended: picked again among all ${source.searched} search trials`);
    assert.equal(((await service.bestSchedule(study.id)) as StudyExport).trialNumber, found.number);
  } finally {
    service.close();
  }
});
