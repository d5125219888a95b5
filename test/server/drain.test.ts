// A server stopped (SIGTERM, Ctrl-C) lets the answers in flight finish before it closes, so a tell being written or
// an ask being fitted is answered rather than cut (and its store is not closed under it); event streams end at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeStudyApi } from '../fixtures/fake_api.js';
import { start } from './helpers.js';

/** A StudyApi whose study list waits for the test to open a gate. */
class GatedApi extends FakeStudyApi {
  entered!: () => void;
  readonly inside = new Promise<void>((r) => (this.entered = r));
  open!: () => void;
  private readonly gate = new Promise<void>((r) => (this.open = r));
  override async listStudies() {
    this.entered();
    await this.gate;
    return super.listStudies();
  }
}

test('close() waits for an answer in flight, which arrives whole; only then do the connections close', async () => {
  const api = new GatedApi();
  const srv = await start({ api });
  const answer = fetch(`${srv.url}/api/studies`).then(async (r) => ({ status: r.status, body: await r.json() }));
  await api.inside;
  let closed = false;
  const closing = srv.close(60_000).then(() => (closed = true));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(closed, false, 'still answering');
  api.open();
  assert.deepEqual(await answer, { status: 200, body: { studies: [] } });
  await closing;
  await assert.rejects(fetch(`${srv.url}/api/health`), 'no longer accepting');
});

test('close() ends an open event stream at once rather than wait out its grace for it', async () => {
  const api = new FakeStudyApi();
  const srv = await start({ api, heartbeatMs: 20 });
  const id = (await fetch(`${srv.url}/api/studies`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'drain', scenario: { steps: 10 }, budget: { trials: 3 } }),
  }).then((r) => r.json()) as { id: string }).id;
  const res = await fetch(`${srv.url}/api/studies/${id}/events`);
  const reader = res.body!.getReader();
  await reader.read();
  // A grace longer than the test's timeout: closing waits for nothing but the stream's end.
  await srv.close(600_000);
  await assert.rejects(async () => {
    for (;;) if ((await reader.read()).done) throw new Error('ended');
  }, /ended|terminated/);
});
