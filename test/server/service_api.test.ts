// Runs the REST contract against the real StudyService (real optimizer, export) over MemoryStorage and SQLite.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStudyService } from '../../src/study/service/defaults.js';
import { MemoryStorage, SqliteStorage } from '../../src/study/storage/index.js';
import { restContract } from './contract.js';
import { call, start, studyConfig } from './helpers.js';

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

describe('two servers over one SQLite file (two connections, like two processes)', () => {
  it('of 8 tells to one trial split across both servers, exactly one wins', async () => {
    const file = join(dir, 'shared.db');
    const [sa, sb] = [new SqliteStorage(file), new SqliteStorage(file)];
    const [a, b] = [await start({ api: createStudyService(sa) }), await start({ api: createStudyService(sb) })];
    try {
      const id = (await call(a.url, 'POST', '/api/studies', studyConfig('shared'))).body.id;
      const trial = (await call(a.url, 'POST', `/api/studies/${id}/ask`, { count: 1 })).body.trials[0].id;
      const replies = await Promise.all(Array.from({ length: 8 }, (_, i) =>
        call(i % 2 ? a.url : b.url, 'POST', `/api/studies/${id}/trials/${trial}/tell`, { value: i / 10 })));
      assert.deepEqual(replies.map((r) => r.status).sort(), [200, 409, 409, 409, 409, 409, 409, 409]);
      const winner = replies.find((r) => r.status === 200)!.body.trial.value;
      for (const srv of [a, b]) {
        const view = await call(srv.url, 'GET', `/api/studies/${id}`);
        assert.equal(view.body.trials[0].value, winner, 'both servers see the one stored outcome');
      }
    } finally {
      await Promise.all([a.close(), b.close()]);
      sa.close();
      sb.close();
    }
  });
});
