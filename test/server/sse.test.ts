// Server-sent events: a client that stops reading is dropped once its buffer passes the bound, so it cannot grow the server's memory.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { validateStudyConfig } from '../../src/study/config.js';
import { FakeStudyApi } from '../fixtures/fake_api.js';
import { start, studyConfig } from './helpers.js';

it('drops a client that never reads once it has more than maxBufferedBytes unread, and unsubscribes it', async () => {
  const api = new FakeStudyApi();
  const srv = await start({ api, maxBufferedBytes: 64 * 1024, heartbeatMs: 60_000 });
  const sock = connect(srv.port, '127.0.0.1');
  try {
    const { id } = await api.createStudy(validateStudyConfig(studyConfig('slow-reader')));
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.write(`GET /api/studies/${id}/events HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\nAccept: text/event-stream\r\n\r\n`);
    // Read the headers, then stop reading for good.
    await new Promise<void>((r) => sock.once('data', () => r()));
    sock.pause();
    for (let i = 0; i < 200 && api.listenerCount(id) === 0; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(api.listenerCount(id), 1);
    const padding = 'x'.repeat(2000);
    let sent = 0;
    // Far more than the socket buffers can absorb: the server must give up on the client, not queue it all.
    for (; sent < 20_000 && api.listenerCount(id) > 0; sent++) {
      api.emit({ type: 'report', studyId: id, trialId: 1, number: 0, point: { step: sent, value: 0.5, metrics: { padding } } });
      if (sent % 200 === 0) await new Promise((r) => setImmediate(r));
    }
    assert.equal(api.listenerCount(id), 0, `still subscribed after ${sent} events of 2 kB`);
    assert.ok(sent * 2000 < 40e6, `dropped after ${(sent * 2) / 1000} MB, not at the end`);
  } finally {
    sock.destroy();
    await srv.close();
  }
});
