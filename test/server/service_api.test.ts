// Runs the REST contract against the real StudyService (real optimizer, export) over MemoryStorage and SQLite.
import { after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStudyService } from '../../src/study/service/defaults.js';
import { MemoryStorage, SqliteStorage } from '../../src/study/storage/index.js';
import { restContract } from './contract.js';

restContract('StudyService over MemoryStorage', () => {
  const storage = new MemoryStorage();
  return { api: createStudyService(storage), storage };
});

const dir = mkdtempSync(join(tmpdir(), 'renorm-server-'));
after(() => rmSync(dir, { recursive: true, force: true }));
restContract('StudyService over SqliteStorage', () => {
  const storage = new SqliteStorage(join(dir, 'api.db'));
  return { api: createStudyService(storage), storage };
});
