// The study list's tallies are kept between lists and recomputed only for studies that changed, by this process or another.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StudyService } from '../../../src/study/service.js';
import { MemoryStorage, SqliteStorage } from '../../../src/study/storage/index.js';
import { tally } from '../../../src/shared/summary.js';
import type { Storage } from '../../../src/study/types.js';
import { createTestDatabase } from '../../fixtures/pg.js';
import { RecordingOptimizer, baseConfig, fakeDeps } from './fakes.js';
import { twoServers } from './pg_servers.js';

/** `storage` with its trialTallies calls counted: `all` without a study id, `one` with. */
function counted<S extends Storage>(storage: S): { storage: S; calls: { all: number; one: number } } {
  const calls = { all: 0, one: 0 };
  const original = storage.trialTallies.bind(storage);
  storage.trialTallies = (studyId?: string) => {
    if (studyId === undefined) calls.all++;
    else calls.one++;
    return original(studyId);
  };
  return { storage, calls };
}

const service = (storage: Storage) => new StudyService(storage, fakeDeps([] as RecordingOptimizer[]), { watchIntervalMs: 0 });

/** What a fresh read of every trial says each study's counts and best are. */
async function truth(storage: Storage): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const s of await storage.listStudies()) {
    const t = tally(await storage.listTrials(s.id, { withIntermediate: false }), s.direction);
    out[s.name] = { counts: t.counts, best: t.best?.value ?? null };
  }
  return out;
}

async function listed(svc: StudyService): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const s of await svc.listStudies()) out[s.name] = { counts: s.counts, best: s.best?.value ?? null };
  return out;
}

/**
 * Through `a` (over `storeA`, whose tally reads are `calls`): a study with two told trials is listed as its trials say,
 * a second unchanged list reads no tally, and a better trial told through `b` (another connection to the same database)
 * is the study's best at `a`'s next list.
 */
async function seenAcross(a: StudyService, b: StudyService, storeA: Storage, calls: { all: number; one: number }): Promise<void> {
  const s = await a.createStudy(baseConfig({ name: 'shared', executor: 'external', baselines: false }));
  for (const x of await a.ask(s.id, 2)) await a.tell(s.id, x.id, { value: 0.4 });
  assert.deepEqual(await listed(a), await truth(storeA));
  const before = { ...calls };
  assert.deepEqual(await listed(a), await truth(storeA));
  assert.deepEqual(calls, before, 'nothing changed: no tally is read');
  const [x] = await b.ask(s.id, 1);
  await b.tell(s.id, x!.id, { value: 0.8 });
  const after = await listed(a);
  assert.deepEqual(after, await truth(storeA));
  assert.equal((after.shared as { best: number }).best, 0.8, 'the better trial told through the other connection is the best in this one\'s list');
}

test('a list of unchanged studies reads no tally; a change re-reads that study alone, and the list matches the trials', async () => {
  const { storage, calls } = counted(new MemoryStorage());
  const svc = service(storage);
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) {
    const s = await svc.createStudy(baseConfig({ name: `s${i}`, executor: 'external', baselines: false }));
    ids.push(s.id);
    for (const t of await svc.ask(s.id, 2)) await svc.tell(s.id, t.id, { value: 0.5 + i / 100 + t.number / 1000 });
  }
  assert.deepEqual(await listed(svc), await truth(storage));
  assert.deepEqual(calls, { all: 1, one: 0 }, 'the first list reads the whole aggregate once');

  assert.deepEqual(await listed(svc), await truth(storage));
  assert.deepEqual(calls, { all: 1, one: 0 }, 'nothing changed: no tally is read');

  const [t] = await svc.ask(ids[2]!, 1);
  assert.deepEqual(await listed(svc), await truth(storage), 'a RUNNING trial shows in its study\'s counts');
  await svc.tell(ids[2]!, t!.id, { value: 0.99 });
  const now = await listed(svc);
  assert.deepEqual(now, await truth(storage));
  assert.equal((now.s2 as { best: number }).best, 0.99, 'the new best shows at once');
  assert.deepEqual(calls, { all: 1, one: 2 }, 'each change re-read the one study it touched');

  await svc.deleteStudy(ids[4]!);
  await svc.createStudy(baseConfig({ name: 'late', executor: 'external', baselines: false }));
  assert.deepEqual(await listed(svc), await truth(storage), 'a deleted study leaves the list, a new one joins it with no trials');
});

test('a change made through another connection to the same SQLite file is seen at the next list, and an unchanged list reads no tally', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tally-cache-'));
  const file = join(dir, 'studies.db');
  const a = new SqliteStorage(file);
  const b = new SqliteStorage(file);
  try {
    await seenAcross(service(a), service(b), a, counted(a).calls);
  } finally {
    await a.close();
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('on PostgreSQL: a change made by another server is seen at the next list, and an unchanged list reads no tally', { timeout: 60_000 }, async (t) => {
  const db = await createTestDatabase('tallies');
  if ('unavailable' in db) return t.skip(db.unavailable);
  const servers = await twoServers(db.url, { watchIntervalMs: 0 });
  try {
    await seenAcross(servers.a, servers.b, servers.sa, counted(servers.sa).calls);
  } finally {
    await servers.close();
    await db.drop();
  }
});
