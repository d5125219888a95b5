// Copying a study to another store: every field of the study and its trials reads back the same (trial ids made the
// copy's, in its results too), a running trial is queued again, the copy goes on where the study left off (its keyed
// baselines and final runs are not made twice), and a refused or failed copy leaves nothing behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { ConfigError, ConflictError, DataError } from '../../src/errors.js';
import type { StudyView } from '../../src/study/api_types.js';
import { copyStudy } from '../../src/study/copy.js';
import { runStudy } from '../../src/study/runner.js';
import { StudyService } from '../../src/study/service.js';
import { createStudyService } from '../../src/study/service/defaults.js';
import { MemoryStorage } from '../../src/study/storage/index.js';
import type { Storage } from '../../src/study/types.js';
import { freshStore, type StoreKind } from '../fixtures/stores.js';
import { baseConfig, fakeDeps } from './service/fakes.js';

const trainer = fileURLToPath(new URL('../fixtures/workers/fake_trainer.js', import.meta.url));

type Kind = StoreKind;

/** A fresh store of `kind` (one connection), or why there is none. */
async function store(kind: Kind): Promise<{ storage: Storage; close(): Promise<void> } | { unavailable: string }> {
  const fresh = await freshStore(kind, 'copy');
  return 'unavailable' in fresh ? fresh : { storage: fresh.connections[0]!, close: fresh.close };
}

/** A view with its ids as numbers: trial ids (the best's, and the results') read through each trial's number. */
function byNumber(v: StudyView) {
  const numberOf = new Map(v.trials.map((t) => [t.id, t.number]));
  const fv = v.finalValidation as { best?: { trialId: number | null } | null; trialId?: number } | null;
  return {
    ...v,
    id: 'x',
    best: v.best && { ...v.best, trialId: numberOf.get(v.best.trialId) },
    finalValidation: fv && { ...fv, trialId: fv.trialId === undefined ? undefined : numberOf.get(fv.trialId), best: fv.best && { ...fv.best, trialId: numberOf.get(fv.best.trialId!) } },
    // Claims count a store's leases, which do not travel: a copy's trials start at 0 (asserted on their own).
    trials: v.trials.map(({ id: _id, studyId: _s, claims: _c, ...t }) => t),
  };
}

/** A local study run through its evidence phase (baselines, race, final runs, a pruned trial), and an outside trainer's with one trial still out. */
async function sources(service: StudyService, storage: Storage): Promise<{ local: string; external: string; outNumber: number }> {
  const local = await service.createStudy(baseConfig({
    budget: { trials: 8 }, workers: 2, finalValidation: { seeds: 2, race: { candidates: 2, seeds: 1 } }, pruner: { type: 'median', warmupSteps: 0, minTrials: 1 },
  }));
  assert.equal((await runStudy(local.id, { service, workerFile: trainer })).state, 'COMPLETE');
  const external = await service.createStudy(baseConfig({ executor: 'external', budget: { trials: 6 }, finalValidation: { seeds: 0 } }));
  // A trial whose holder died: queued again with retries 1, then asked again.
  const [lost] = await service.ask(external.id, 1);
  await storage.reapExpiredLeases(external.id, { maxRetries: 3, deadOwners: [lost!.lease!.owner] });
  const asked = await service.ask(external.id, 4);
  assert.equal(asked[0]!.id, lost!.id);
  for (const t of asked.slice(0, 3)) {
    await service.report(external.id, t.id, 10, 0.4, { token: t.lease!.token, metrics: { loss: 1.5 } });
    await service.tell(external.id, t.id, { value: 0.5 + 0.01 * t.number }, { token: t.lease!.token });
  }
  const out = asked[3]!;
  await service.report(external.id, out.id, 10, 0.45, { token: out.lease!.token });
  return { local: local.id, external: external.id, outNumber: out.number };
}

const PAIRS: [Kind, Kind][] = [['sqlite', 'postgres'], ['postgres', 'sqlite'], ['sqlite', 'memory'], ['memory', 'sqlite']];

for (const [fromKind, toKind] of PAIRS) {
  test(`copy ${fromKind} -> ${toKind}: the copy reads back field for field, its running trial is queued again, and it goes on from there`, { timeout: 120_000 }, async (t) => {
    const a = await store(fromKind);
    if ('unavailable' in a) return t.skip(a.unavailable);
    const b = await store(toKind);
    if ('unavailable' in b) {
      await a.close();
      return t.skip(b.unavailable);
    }
    const from = new StudyService(a.storage, fakeDeps(), { watchIntervalMs: 0 });
    const to = new StudyService(b.storage, fakeDeps(), { watchIntervalMs: 0 });
    try {
      // The target already holds a study with trials, so the copy's trial ids differ from the source's.
      const other = await to.createStudy(baseConfig({ executor: 'external', budget: { trials: 30 } }));
      await to.ask(other.id, 17);
      const src = await sources(from, a.storage);

      const heard: string[] = [];
      const local = await copyStudy(from, to, src.local, undefined, (line) => heard.push(line));
      assert.match(heard.join('\n'), /^read study \S+: \d+ trials; writing the copy/, 'it says what it read before the long part');
      const studies = (await b.storage.listStudies()).length;
      await assert.rejects(copyStudy(from, to, src.local), (e: unknown) => e instanceof ConflictError, 'a second copy under the same name is refused');
      assert.equal((await b.storage.listStudies()).length, studies, 'and leaves nothing');
      const was = await from.getStudyView(src.local);
      const now = await to.getStudyView(local.to.id);
      assert.equal(local.requeued, 0);
      assert.equal(local.trials, was.trials.length);
      assert.equal(local.points, was.trials.reduce((n, x) => n + x.intermediate.length, 0));
      assert.ok(was.finalValidation && was.trials.some((x) => x.state === 'PRUNED') && was.trials.some((x) => x.role.startsWith('final:')), 'the source has a verdict, a pruned trial and final runs');
      assert.ok((await from.getStudyView(src.external)).trials.some((x) => x.retries === 1), 'a source trial was retried');
      assert.notDeepEqual(now.trials.map((x) => x.id), was.trials.map((x) => x.id), 'the copy has ids of its own');
      assert.deepEqual(byNumber(now), byNumber(was), 'the copy shows the same study, the same trials with the same curves and times, the same verdict');
      assert.ok(was.trials.some((x) => x.claims > 0) && now.trials.every((x) => x.claims === 0), 'the source\'s trials were handed out; the copy\'s not yet');
      assert.equal((await to.resolve(local.to.id)).searchSeconds, (await from.resolve(src.local)).searchSeconds, 'the search clock travels');
      const source = (await to.resolve(local.to.id)).attrs.finalValidationSource as { best: number; trialNumber: number };
      assert.equal(now.trials.find((x) => x.id === source.best)?.number, source.trialNumber, "the evidence phase's pick names the copy's own trial");

      // Extended in the copy, the local study runs on: new search trials, its keyed baselines and final runs not made twice.
      await to.extendStudy(local.to.id, { trials: 10 });
      assert.equal((await runStudy(local.to.id, { service: to, workerFile: trainer })).state, 'COMPLETE');
      const after = await to.getStudyView(local.to.id);
      const roles = (v: StudyView, role: string) => v.trials.filter((x) => x.role === role).length;
      assert.equal(roles(after, 'baseline:batchnorm'), 1);
      assert.equal(roles(after, 'baseline:paper'), 1);
      assert.equal(after.trials.filter((x) => x.role === 'search').length, was.trials.filter((x) => x.role === 'search').length + 2, 'two more search trials');
      assert.deepEqual(after.trials.map((x) => x.number), after.trials.map((_, i) => i), 'numbered on from the copy');

      const external = await copyStudy(from, to, src.external, 'ext-copy');
      assert.equal(external.requeued, 1);
      assert.equal(external.to.name, 'ext-copy');
      const copied = await to.getStudyView(external.to.id);
      assert.equal(copied.config.name, 'ext-copy', "the copy's config carries its name");
      const ext = await from.getStudyView(src.external);
      const handedBack = (x: StudyView['trials'][number]) => (x.number === src.outNumber ? { ...x, state: 'WAITING' as const, lease: null, startedAt: null, intermediate: [], pruneRequested: false } : x);
      assert.deepEqual(byNumber(copied).trials, byNumber({ ...ext, trials: ext.trials.map(handedBack) }).trials, 'every trial as it was (retries, curves, times), the running one as handed back');
      const out = copied.trials.find((x) => x.number === src.outNumber)!;
      assert.deepEqual([out.state, out.lease, out.startedAt, out.intermediate], ['WAITING', null, null, []], 'the running trial waits again, its curve gone');
      assert.equal((await from.getStudyView(src.external)).trials.find((x) => x.number === src.outNumber)!.state, 'RUNNING', 'the source is not touched');
      // Asked in the copy: the queued trial first, then new ones, within the budget the source had left.
      const asked = await to.ask(external.to.id, 5);
      assert.deepEqual(asked.map((x) => x.number), [src.outNumber, src.outNumber + 1, src.outNumber + 2]);
    } finally {
      from.close();
      to.close();
      await a.close();
      await b.close();
    }
  });
}

test('a copy is refused whole: a name the target holds, a running trial in a snapshot; nothing is written', async () => {
  const from = new StudyService(new MemoryStorage(), fakeDeps(), { watchIntervalMs: 0 });
  const target = new MemoryStorage();
  const to = new StudyService(target, fakeDeps(), { watchIntervalMs: 0 });
  const s = await from.createStudy(baseConfig({ executor: 'external', budget: { trials: 4 } }));
  await to.createStudy(baseConfig({ name: s.name, executor: 'external' }));
  await assert.rejects(copyStudy(from, to, s.name), (e: unknown) => e instanceof ConflictError && /already exists/.test(e.message));
  assert.equal((await target.listStudies()).length, 1);
  const asked = await from.ask(s.id, 1);
  const { snapshot } = await from.snapshot(s.id, 'other');
  snapshot.trials[asked[0]!.number]!.state = 'RUNNING';
  await assert.rejects(target.importStudy(snapshot), (e: unknown) => e instanceof ConfigError && /trials\[\d+\]\.state/.test(e.message));
  assert.equal((await target.listStudies()).length, 1);
});

test('a copy that does not read back as written is deleted again, and says which field differed', async () => {
  const source = new MemoryStorage();
  const from = new StudyService(source, fakeDeps(), { watchIntervalMs: 0 });
  const target = new MemoryStorage();
  // A store that loses each trial's retries on the way in.
  const lossy = new Proxy(target, {
    get(obj, key, receiver) {
      const v = Reflect.get(obj, key, receiver);
      if (key !== 'importStudy') return typeof v === 'function' ? v.bind(obj) : v;
      return (snap: Parameters<Storage['importStudy']>[0], attrsFor: Parameters<Storage['importStudy']>[1]) =>
        obj.importStudy({ ...snap, trials: snap.trials.map((x) => ({ ...x, retries: 0 })) }, attrsFor);
    },
  });
  const to = new StudyService(lossy, fakeDeps(), { watchIntervalMs: 0 });
  const s = await from.createStudy(baseConfig({ executor: 'external', budget: { trials: 4 } }));
  const [t] = await from.ask(s.id, 1);
  // Its holder gone, the trial is requeued with retries 1.
  await source.reapExpiredLeases(s.id, { maxRetries: 3, deadOwners: [t!.lease!.owner] });
  assert.equal((await source.getTrial(s.id, t!.id))!.retries, 1, 'the source trial was requeued once');
  await assert.rejects(copyStudy(from, to, s.id), (e: unknown) => e instanceof DataError && /trial #0's retries/.test(e.message) && /deleted again/.test(e.message));
  assert.equal((await target.listStudies()).length, 0, 'nothing is left of the copy');
});

test("a study whose create was cut short (no baselines or warm start yet) is finished in its own database before it is copied", async () => {
  const source = new MemoryStorage();
  const from = createStudyService(source);
  const to = createStudyService(new MemoryStorage());
  const ext = (over: Record<string, unknown>) => baseConfig({ executor: 'external', optimizer: 'random', budget: { trials: 6 }, ...over });
  const earlier = await from.createStudy(ext({ baselines: false }));
  for (const t of await from.ask(earlier.id, 3)) await from.tell(earlier.id, t.id, { value: 0.6 + 0.01 * t.number }, { token: t.lease!.token });
  // The study row alone, as a create killed after its first write leaves it.
  const config = ext({ warmStartFrom: earlier.name });
  const cut = await source.createStudy({ name: config.name, direction: config.objective.direction, config: config as unknown as Record<string, unknown> });
  // In the target, a study of the source's name that is not it: a warm start finished there would copy from it.
  const impostor = await to.createStudy(ext({ name: earlier.name, baselines: false }));
  for (const t of await to.ask(impostor.id, 2)) await to.tell(impostor.id, t.id, { value: 0.1 }, { token: t.lease!.token });
  const copied = await copyStudy(from, to, cut.id);
  const view = await to.getStudyView(copied.to.id);
  assert.deepEqual(view.trials.map((t) => t.role).sort(), ['baseline:batchnorm', 'baseline:paper', 'warm-start', 'warm-start', 'warm-start']);
  assert.deepEqual([view.warmStart?.from.id, view.warmStart?.copied], [earlier.id, 3], 'the warm start is the one from its own database');
  from.close();
  to.close();
});
