// The storage change stamp the service polls (both storages): every state change moves it, nothing else does.
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
  test(`changeStamp (${name}): every state change moves it; reads and no-op writes do not`, () => {
    const { s, done } = make();
    try {
      const st = s.createStudy({ name: 'x', direction: 'maximize', config: {} });
      const other = s.createStudy({ name: 'y', direction: 'maximize', config: {} });
      const seen = [s.changeStamp(st.id)];
      const moved = (what: string) => {
        const now = s.changeStamp(st.id);
        assert.ok(!seen.includes(now), `${what} must move the stamp (was ${seen.at(-1)}, now ${now})`);
        seen.push(now);
      };
      const still = (what: string) => assert.equal(s.changeStamp(st.id), seen.at(-1), `${what} must not move the stamp`);
      const [a, b] = s.createTrials(st.id, [0, 1].map((seed) => ({ state: 'WAITING' as const, params: {}, schedule: { kind: 'batchnorm' as const }, seed })));
      moved('createTrials');
      s.listTrials(st.id);
      s.getStudy(st.id);
      still('reading');
      assert.equal(s.startTrial(st.id, a!.id), true);
      moved('startTrial');
      assert.equal(s.startTrial(st.id, a!.id), false);
      still('a startTrial that lost the race');
      s.addIntermediate(st.id, a!.id, { step: 1, value: 0.5 });
      moved('addIntermediate');
      s.addIntermediate(st.id, a!.id, { step: 1, value: 0.9 });
      still('a repeated step (kept as first reported)');
      assert.equal(s.requeueRunning(st.id), 1);
      moved('requeueRunning');
      s.finishTrial(st.id, b!.id, { state: 'COMPLETE', value: 0.7 });
      moved('finishTrial');
      s.setStudyState(st.id, 'RUNNING');
      moved('setStudyState');
      s.setStudyAttr(st.id, 'searchSeconds', 1.5);
      moved('setStudyAttr (new key)');
      s.setStudyAttr(st.id, 'searchSeconds', 2.5);
      moved('setStudyAttr (same key, same length)');
      s.createTrials(other.id, [{ state: 'WAITING', params: {}, schedule: { kind: 'batchnorm' }, seed: 1 }]);
      s.setStudyState(other.id, 'RUNNING');
      still('changes to another study');
      assert.throws(() => s.changeStamp('nope'), /not found/);
    } finally {
      s.close();
      done();
    }
  });
}

test('changeStamp: a database from before the stamp (schema 1) gets it on open, and it moves from then on', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stamp-v1-'));
  const file = join(dir, 'old.db');
  try {
    const raw = new Database(file);
    migrate(raw, file, MIGRATIONS.slice(0, 1));
    raw.prepare("INSERT INTO studies (id, name, direction, state, config, created_at) VALUES ('abc', 'old', 'maximize', 'RUNNING', '{}', 'then')").run();
    raw.close();
    const s = new SqliteStorage(file);
    try {
      const before = s.changeStamp('abc');
      s.createTrials('abc', [{ state: 'WAITING', params: {}, schedule: { kind: 'batchnorm' }, seed: 1 }]);
      assert.notEqual(s.changeStamp('abc'), before);
      assert.equal(s.listTrials('abc').length, 1);
    } finally {
      s.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
