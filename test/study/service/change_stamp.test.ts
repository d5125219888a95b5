// The storage change stamp the service watches (RAM and SQLite): reads and no-op writes leave it alone; an old database gains it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MemoryStorage, SqliteStorage } from '../../../src/study/storage/index.js';
import { MIGRATIONS, migrate } from '../../../src/study/storage/migrations.js';
import type { Storage } from '../../../src/study/types.js';

for (const [name, make] of [
  ['MemoryStorage', () => ({ s: new MemoryStorage(), done: () => {} })],
  ['SqliteStorage', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stamp-'));
    return { s: new SqliteStorage(join(dir, 'db.sqlite')), done: () => rmSync(dir, { recursive: true, force: true }) };
  }],
] as [string, () => { s: Storage; done: () => void }][]) {
  test(`changeStamp (${name}): reads, lost races, repeated steps and other studies' changes do not move it`, async () => {
    const { s, done } = make();
    try {
      const st = await s.createStudy({ name: 'x', direction: 'maximize', config: {} });
      const other = await s.createStudy({ name: 'y', direction: 'maximize', config: {} });
      const [a] = await s.createTrials(st.id, [{ state: 'WAITING', role: 'search', params: {}, schedule: { kind: 'batchnorm' } }]);
      let seen = await s.changeStamp(st.id);
      const still = async (what: string) => assert.equal(await s.changeStamp(st.id), seen, `${what} must not move the stamp`);
      await s.listTrials(st.id);
      await s.getStudy(st.id);
      await still('reading');
      await s.claimTrial(st.id, a!.id, { owner: 'w', seconds: 60 });
      seen = await s.changeStamp(st.id);
      assert.equal(await s.claimTrial(st.id, a!.id, { owner: 'v', seconds: 60 }), null);
      await still('a claim that lost the race');
      await s.addIntermediate(st.id, a!.id, { step: 1, value: 0.5 });
      seen = await s.changeStamp(st.id);
      await s.addIntermediate(st.id, a!.id, { step: 1, value: 0.9 });
      await still('a repeated step (kept as first reported)');
      await s.setStudyState(st.id, 'CREATED');
      await still('setting the state it already has');
      await s.createTrials(other.id, [{ state: 'WAITING', role: 'search', params: {}, schedule: { kind: 'batchnorm' } }]);
      await s.setStudyState(other.id, 'RUNNING');
      await still('changes to another study');
    } finally {
      await s.close();
      done();
    }
  });
}

test('changeStamp: a database from before the stamp (schema 1) gets it on open, and it moves from then on', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stamp-v1-'));
  const file = join(dir, 'old.db');
  try {
    const raw = new Database(file);
    migrate(raw, file, MIGRATIONS.slice(0, 1));
    raw.prepare("INSERT INTO studies (id, name, direction, state, config, created_at) VALUES ('abc', 'old', 'maximize', 'RUNNING', '{}', 'then')").run();
    raw.close();
    const s = new SqliteStorage(file);
    try {
      const before = await s.changeStamp('abc');
      await s.createTrials('abc', [{ state: 'WAITING', role: 'search', params: {}, schedule: { kind: 'batchnorm' } }]);
      assert.notEqual(await s.changeStamp('abc'), before);
      assert.equal((await s.listTrials('abc')).length, 1);
    } finally {
      await s.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
