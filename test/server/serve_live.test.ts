// `renorm-tune serve --db X` next to a separate process writing X (a `run`, or another server): its event stream is live.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '../../src/cli/study.js';
import { createStudyService } from '../../src/study/service/defaults.js';
import { SqliteStorage } from '../../src/study/storage/index.js';
import { studyConfig } from './helpers.js';
import { validateStudyConfig } from '../../src/study/config.js';

it('serve streams the trial another connection tells within a few seconds, as a trial event', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'renorm-serve-live-'));
  const db = join(dir, 'studies.db');
  // The writer opens the file first, as `renorm-tune run` would before the user starts `serve`.
  const writer = new SqliteStorage(db);
  const runner = createStudyService(writer);
  const srv = await serve({ db, host: '127.0.0.1', port: '0', env: {} });
  const ac = new AbortController();
  const giveUp = setTimeout(() => ac.abort(), 8000);
  try {
    const id = (await runner.createStudy(validateStudyConfig(studyConfig('live-serve', { optimizer: { type: 'random' } })))).id;
    const [t] = await runner.ask(id, 1);
    const res = await fetch(`${srv.url}/api/studies/${id}/events`, { signal: ac.signal });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes(': connected')) text += decoder.decode((await reader.read()).value, { stream: true });
    await runner.tell(id, t!.id, { value: 0.75 });
    const told = /event: trial\ndata: [^\n]*"state":"COMPLETE"[^\n]*"value":0.75/;
    while (!told.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    assert.match(text, told, `serve's stream did not tell the trial: ${JSON.stringify(text)}`);
  } catch (err) {
    if (ac.signal.aborted) assert.fail('no event from serve within 8 s of the other connection\'s tell');
    throw err;
  } finally {
    clearTimeout(giveUp);
    ac.abort();
    await srv.stop();
    await writer.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
