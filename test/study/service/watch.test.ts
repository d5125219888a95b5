// The cross-process change watcher behind StudyService.subscribe: events for other connections' writes, none twice, no idle polling.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StudyService } from '../../../src/study/service.js';
import { ChangeWatcher } from '../../../src/study/service/watch.js';
import { MemoryStorage, SqliteStorage } from '../../../src/study/storage/index.js';
import type { StudyEvent } from '../../../src/study/api_types.js';
import { baseConfig, fakeDeps } from './fakes.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves with the first event `accept` takes, or rejects after `ms` naming what it waited for. */
async function nextEvent(svc: StudyService, studyId: string, accept: (e: StudyEvent) => boolean, ms: number): Promise<{ got: Promise<StudyEvent>; off: () => void }> {
  let resolveIt!: (e: StudyEvent) => void;
  let rejectIt!: (err: Error) => void;
  const got = new Promise<StudyEvent>((resolve, reject) => ((resolveIt = resolve), (rejectIt = reject)));
  const timer = setTimeout(() => rejectIt(new Error(`no matching event for study ${studyId} within ${ms} ms`)), ms);
  const stop = await svc.subscribe(studyId, (e) => {
    if (!accept(e)) return;
    clearTimeout(timer);
    resolveIt(e);
  });
  return { got, off: () => (clearTimeout(timer), stop()) };
}

test('watch: two services over two SQLite connections to one file: a subscriber on one sees the other\'s ask and tell', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'watch-'));
  const file = join(dir, 'db.sqlite');
  const [sa, sb] = [new SqliteStorage(file), new SqliteStorage(file)];
  // The default interval (1 s), as `renorm-tune serve` runs it.
  const [a, b] = [new StudyService(sa, fakeDeps()), new StudyService(sb, fakeDeps())];
  try {
    const study = await b.createStudy(baseConfig({ executor: 'external' }));
    const events: StudyEvent[] = [];
    const offAll = await a.subscribe(study.id, (e) => events.push(e));
    const asked = await nextEvent(a, study.id, () => true, 5000);
    const [t] = await b.ask(study.id, 1);
    const e1 = await asked.got;
    asked.off();
    assert.ok(e1.type === 'trial' && e1.trial.id === t!.id && e1.trial.state === 'RUNNING', `the asked trial, as this process would tell it: ${JSON.stringify(e1)}`);
    const told = await nextEvent(a, study.id, (e) => e.type === 'trial' && e.trial.state === 'COMPLETE', 5000);
    await b.tell(study.id, t!.id, { value: 0.8 });
    await told.got;
    told.off();
    assert.equal((await a.getStudyView(study.id)).trials[0]!.state, 'COMPLETE', 'what the event announced is readable through a');
    // Quiet now: no further events, however long we wait.
    const n = events.length;
    await sleep(2200);
    assert.equal(events.length, n, `no event without a change: ${JSON.stringify(events.slice(n))}`);
    offAll();
  } finally {
    a.close();
    b.close();
    await sa.close();
    await sb.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('watch: in one process, each change is announced once (the poll does not repeat it)', async () => {
  const svc = new StudyService(new MemoryStorage(), fakeDeps(), { watchIntervalMs: 20 });
  const study = await svc.createStudy(baseConfig({ executor: 'external' }));
  const events: StudyEvent[] = [];
  const off = await svc.subscribe(study.id, (e) => events.push(e));
  const [t] = await svc.ask(study.id, 1);
  await svc.report(study.id, t!.id, 5, 0.5);
  await sleep(100);
  await svc.tell(study.id, t!.id, { value: 0.6 });
  await sleep(100);
  off();
  svc.close();
  assert.deepEqual(events.map((e) => (e.type === 'trial' ? e.trial.state : e.type === 'report' ? 'report' : e.type === 'study' ? `study:${e.state}` : e.type)), ['RUNNING', 'study:RUNNING', 'report', 'COMPLETE']);
});

test('watch: polls only while someone listens, and stops on the last unsubscribe', async () => {
  const storage = new MemoryStorage();
  let reads = 0;
  const counting = { changeStamp: (id: string) => (reads++, storage.changeStamp(id)) };
  const study = await storage.createStudy({ name: 'x', direction: 'maximize', config: {} });
  const foreign: string[] = [];
  const w = new ChangeWatcher(counting, { changed: (id) => foreign.push(id) }, 10);
  await sleep(50);
  assert.equal(reads, 0, 'no polling before anyone watches');
  const [off1, off2] = [await w.watch(study.id), await w.watch(study.id)];
  await storage.setStudyState(study.id, 'RUNNING');
  await sleep(60);
  assert.deepEqual(foreign, [study.id], 'one change, reported once to the two listeners\' study');
  off1();
  off1();
  assert.equal(w.watching, 1, 'a repeated stop does not drop the other listener');
  const before = reads;
  await sleep(40);
  assert.ok(reads > before, 'still polling for the second listener');
  off2();
  const after = reads;
  await sleep(60);
  assert.equal(reads, after, 'no polling after the last unsubscribe');
  assert.equal(w.watching, 0);
});

test('watch: a closed store stops nothing from working and throws nothing from the timer', async () => {
  const storage = new MemoryStorage();
  const study = await storage.createStudy({ name: 'x', direction: 'maximize', config: {} });
  const w = new ChangeWatcher(storage, { changed: () => assert.fail('no change to report') }, 10);
  const off = await w.watch(study.id);
  await storage.close();
  await sleep(40);
  off();
});


test('watch: a storage with push notifications (PostgreSQL) is not polled; a notification of a real change is reported once', async () => {
  const storage = new MemoryStorage();
  const study = await storage.createStudy({ name: 'x', direction: 'maximize', config: {} });
  let notify: (id: string) => void = () => {};
  let listening = 0;
  const pushing = {
    changeStamp: (id: string) => storage.changeStamp(id),
    onChange: (l: (id: string) => void) => ((notify = l), listening++, () => void listening--),
  };
  const foreign: string[] = [];
  const w = new ChangeWatcher(pushing, { changed: (id) => foreign.push(id) }, 10);
  const off = await w.watch(study.id);
  assert.equal(listening, 1);
  notify(study.id);
  await sleep(20);
  assert.deepEqual(foreign, [], 'a notification without a change (our own, already announced) is absorbed');
  await storage.setStudyState(study.id, 'RUNNING');
  notify(study.id);
  notify('another-study');
  await sleep(20);
  assert.deepEqual(foreign, [study.id]);
  off();
  assert.equal(listening, 0, 'the listener goes with the last watcher');
});

test('watch: two first subscribers at once share one watch: the listener begins once, ends once after both leave', async () => {
  const storage = new MemoryStorage();
  const study = await storage.createStudy({ name: 'x', direction: 'maximize', config: {} });
  const calls: string[] = [];
  const w = new ChangeWatcher(storage, {
    begin: async (id) => {
      calls.push(`begin ${id === study.id}`);
      await sleep(20);
    },
    changed: () => calls.push('changed'),
    end: (id) => calls.push(`end ${id === study.id}`),
  }, 10);
  const [off1, off2] = await Promise.all([w.watch(study.id), w.watch(study.id)]);
  assert.equal(w.watching, 1);
  off1();
  assert.deepEqual(calls, ['begin true'], 'one listener left: still watched');
  off2();
  assert.deepEqual(calls, ['begin true', 'end true']);
  assert.equal(w.watching, 0);
});
