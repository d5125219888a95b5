// A long JSON array is sent in slices (the event loop serves others in between) and reads back as the one JSON value, plain or gzipped; a client that leaves mid-answer ends the writing.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { get, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import express from 'express';
import { compress } from '../../src/server/compress.js';
import { SLICE_ITEMS } from '../../src/event_loop.js';
import { SLICE_CHARS, sendJsonSlices } from '../../src/server/json_slices.js';

const items = Array.from({ length: 2 * SLICE_ITEMS + 345 }, (_, i) => ({ number: i, params: { warmup: i / 7, shape: 'linear' }, note: i % 3 ? null : 'é"\\' }));
const head = { id: 'abc', counts: { COMPLETE: 3 }, best: null };

let turnsWhileSending = -1;
let finished: Promise<void> = Promise.resolve();
const app = express();
app.use(compress);
app.get('/view', async (_req, res) => {
  let turns = 0;
  let done = false;
  const tick = () => {
    if (done) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  await sendJsonSlices(res, head, 'trials', items);
  done = true;
  turnsWhileSending = turns;
});
app.get('/empty', async (_req, res) => sendJsonSlices(res, {}, 'trials', []));
// Trials with long curves: 120 items of ~50 kB, 6 MB in all.
const large = Array.from({ length: 120 }, (_, i) => ({ number: i, intermediate: Array.from({ length: 500 }, (_, k) => ({ step: k, value: k / 500, note: 'x'.repeat(60) })) }));
let largeWrites: number[] = [];
app.get('/large', async (_req, res) => {
  largeWrites = [];
  const write = res.write.bind(res) as (chunk: string) => boolean;
  res.write = ((chunk: string) => {
    largeWrites.push(chunk.length);
    return write(chunk);
  }) as typeof res.write;
  await sendJsonSlices(res, head, 'trials', large);
});
app.get('/huge', (_req, res) => {
  const many = Array.from({ length: 40 * SLICE_ITEMS }, (_, i) => ({ i, pad: 'x'.repeat(1000) }));
  finished = sendJsonSlices(res, {}, 'items', many);
});

let server: Server;
const port = async (): Promise<number> => {
  server ??= app.listen(0, '127.0.0.1');
  if (!server.listening) await new Promise((r) => server.once('listening', r));
  return (server.address() as AddressInfo).port;
};
after(() => server?.close());

function rawGet(p: number, path: string, headers: Record<string, string> = {}): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => get({ host: '127.0.0.1', port: p, path, headers }, resolve).on('error', reject));
}

async function bodyOf(res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('sendJsonSlices', () => {
  it('sends exactly the JSON text of {...head, trials}, with the event loop turning between slices', async () => {
    const res = await rawGet(await port(), '/view');
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    const text = (await bodyOf(res)).toString('utf8');
    assert.equal(text, JSON.stringify({ ...head, trials: items }));
    assert.ok(turnsWhileSending >= 2, `the event loop turned ${turnsWhileSending} times while ${items.length} items were sent`);
  });

  it('sends large items fewer at a time (about SLICE_CHARS of text a slice), still exactly the JSON text', async () => {
    const res = await rawGet(await port(), '/large');
    const text = (await bodyOf(res)).toString('utf8');
    assert.equal(text, JSON.stringify({ ...head, trials: large }));
    assert.ok(text.length > 5 * SLICE_CHARS, `${text.length} characters`);
    // The first slice is one item; every later one (the last aside) about SLICE_CHARS.
    assert.ok(largeWrites.length >= Math.floor(text.length / SLICE_CHARS), `writes of ${largeWrites.join(', ')} characters`);
    assert.ok(largeWrites.every((w) => w < 1.2 * SLICE_CHARS), `writes of ${largeWrites.join(', ')} characters`);
  });

  it('reads back the same through gzip', async () => {
    const res = await rawGet(await port(), '/view', { 'accept-encoding': 'gzip' });
    assert.equal(res.headers['content-encoding'], 'gzip');
    assert.deepEqual(JSON.parse(gunzipSync(await bodyOf(res)).toString('utf8')), { ...head, trials: items });
  });

  it('sends an empty head and an empty array as {"trials":[]}', async () => {
    assert.equal((await bodyOf(await rawGet(await port(), '/empty'))).toString('utf8'), '{"trials":[]}');
  });

  it('waits on the compressor slice after slice without piling up listeners', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      const res = await rawGet(await port(), '/huge', { 'accept-encoding': 'gzip' });
      assert.equal(res.headers['content-encoding'], 'gzip');
      const back = JSON.parse(gunzipSync(await bodyOf(res)).toString('utf8')) as { items: { i: number }[] };
      assert.equal(back.items.length, 40 * SLICE_ITEMS);
      assert.equal(back.items[back.items.length - 1]!.i, 40 * SLICE_ITEMS - 1);
      await finished;
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(warnings, []);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('stops writing when the client leaves mid-answer, without waiting on it forever', async () => {
    const res = await rawGet(await port(), '/huge');
    await new Promise((r) => res.once('data', r));
    res.destroy();
    const outcome = await Promise.race([finished.then(() => 'ended'), new Promise((r) => setTimeout(() => r('still waiting after 10 s'), 10_000).unref())]);
    assert.equal(outcome, 'ended');
  });
});
