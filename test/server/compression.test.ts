// Answers are compressed for clients that ask (a big study's view shrinks many times over), and the event stream never is: its events still arrive at once.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { get, type IncomingMessage } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { createStudyService } from '../../src/study/service/defaults.js';
import { MemoryStorage } from '../../src/study/storage/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { call, start, studyConfig } from './helpers.js';

/** A plain GET that leaves the body as sent (fetch would decompress it unasked). */
function rawGet(port: number, path: string, headers: Record<string, string>): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => get({ host: '127.0.0.1', port, path, headers }, resolve).on('error', reject));
}

async function bodyOf(res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('compressed answers', () => {
  let srv: RunningServer;
  let id: string;

  before(async () => {
    srv = await start({ api: createStudyService(new MemoryStorage()), heartbeatMs: 60_000 });
    id = (await call(srv.url, 'POST', '/api/studies', studyConfig('big', { budget: { trials: 200 }, optimizer: { type: 'random' } }))).body.id;
    for (let k = 0; k < 3; k++) {
      const asked = (await call(srv.url, 'POST', `/api/studies/${id}/ask`, { count: 64 })).body.trials as Array<{ number: number }>;
      for (const t of asked.slice(0, 60)) await call(srv.url, 'POST', `/api/studies/${id}/trials/${t.number}/tell`, { value: (t.number % 17) / 17 });
    }
  });
  after(() => srv.close());

  it('gzips a big study view for a client that accepts gzip, decoding to the same JSON as the plain answer', async () => {
    const plainRes = await rawGet(srv.port, `/api/studies/${id}`, {});
    assert.equal(plainRes.headers['content-encoding'], undefined, 'nothing is compressed unasked');
    const plain = await bodyOf(plainRes);
    const zipped = await rawGet(srv.port, `/api/studies/${id}`, { 'accept-encoding': 'gzip' });
    assert.equal(zipped.statusCode, 200);
    assert.equal(zipped.headers['content-encoding'], 'gzip');
    assert.match(zipped.headers.vary ?? '', /accept-encoding/i, 'caches keep the two answers apart');
    const packed = await bodyOf(zipped);
    const unpacked = gunzipSync(packed);
    assert.deepEqual(JSON.parse(unpacked.toString('utf8')), JSON.parse(plain.toString('utf8')));
    assert.ok(plain.length > 100_000, `a big view (${plain.length} bytes)`);
    assert.ok(packed.length * 4 < plain.length, `${plain.length} bytes gzipped to ${packed.length}`);
  });

  it('sends the event stream uncompressed to a client that accepts gzip, and an event arrives promptly', async () => {
    const res = await rawGet(srv.port, `/api/studies/${id}/events`, { 'accept-encoding': 'gzip, deflate, br', accept: 'text/event-stream' });
    try {
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['content-encoding'], undefined);
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      const waitFor = async (re: RegExp, ms: number): Promise<number> => {
        const t0 = Date.now();
        while (!re.test(text)) {
          if (Date.now() - t0 > ms) throw new Error(`nothing matching ${re} within ${ms} ms; got ${JSON.stringify(text.slice(0, 200))}`);
          await new Promise((r) => setTimeout(r, 5));
        }
        return Date.now() - t0;
      };
      await waitFor(/: connected/, 2000);
      const view = (await call(srv.url, 'GET', `/api/studies/${id}`)).body as { trials: Array<{ number: number; state: string }> };
      const open = view.trials.find((t) => t.state === 'RUNNING')!;
      const told = call(srv.url, 'POST', `/api/studies/${id}/trials/${open.number}/tell`, { value: 0.5 });
      const ms = await waitFor(/event: trial\ndata: .*"state":"COMPLETE"/, 2000);
      assert.equal((await told).status, 200);
      assert.ok(ms < 2000, `the event took ${ms} ms`);
    } finally {
      res.destroy();
    }
  });
});
