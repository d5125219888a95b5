// The Python client against a live server behind a proxy that cuts connections mid-call (a server killed or
// restarted while a request is in flight): calls safe to send again are sent again, and what the first try did is
// found instead of done twice (an ask by its askId, a tell by what is stored). `npm run soak` found the loop dying of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { type ProxyAct as Act, startHttpProxy as proxy } from '../fixtures/http_proxy.js';
import { FIXTURES, liveServer, pythonEnv, PYTHON, pythonMissing } from './helpers.js';

/** The answer of a server that sent the change, then lost its database before the commit was confirmed. */
const OUTCOME_UNKNOWN: Act = {
  landed: true, status: 503,
  body: { error: { code: 'STORAGE_OUTCOME_UNKNOWN', message: 'postgres://db/x: the connection to the database was lost (ECONNRESET) after this request\'s change was sent and before it was confirmed: it may or may not have been written' } },
};

/** What to do with the n-th arrival (from 0) of each kind of call; anything past its list is passed. */
function byArrival(plans: Record<string, Act[]>): (method: string, path: string) => Act {
  const seen = new Map<string, number>();
  return (method, path) => {
    const kind = path === '/api/studies' ? 'create' : /\/(ask|report|heartbeat|tell|release)$/.exec(path)?.[1];
    if (method !== 'POST' || !kind) return 'pass';
    const n = seen.get(kind) ?? 0;
    seen.set(kind, n + 1);
    return plans[kind]?.[n] ?? 'pass';
  };
}

test('calls safe to repeat are sent again after a cut connection, and an ask or a tell that landed is not done twice', { skip: pythonMissing, timeout: 120_000 }, async () => {
  const server = await liveServer();
  const cutting = await proxy(server.url, byArrival({
    ask: ['cut-answer'],
    report: ['cut-answer'],
    heartbeat: ['cut-answer'],
    release: ['cut-answer'],
    create: ['pass', 'cut-answer'],
    // a's tell cut and sent again; b's failure cut and sent again; c's tell cut before it reached the server; f's
    // tell landed, and its server lost the database before answering
    tell: ['cut-answer', 'pass', 'cut-answer', 'pass', 'cut-request', 'pass', OUTCOME_UNKNOWN],
  }));
  const unnamed = byArrival({ ask: ['pass', 'cut-answer'] });
  const old = await proxy(server.url, (method, path, body) => (body.includes('"askId"')
    ? { status: 400, body: { error: { code: 'INVALID_ASK', message: 'askId: unknown field (an older server)', field: 'askId' } } }
    : unnamed(method, path)));
  const late = await proxy(server.url, byArrival({ ask: ['late-answer'] }));
  // An ask answered late, by when the trial's lease had gone to another trainer (its heartbeat says so).
  const stale = await proxy(server.url, byArrival({
    ask: ['late-answer'],
    heartbeat: [{ status: 409, body: { error: { code: 'LEASE_LOST', message: 'trial #0: lease lost (token 1 is stale, the lease is at 2)' } } }],
  }));
  try {
    // Not spawnSync: the proxies answer from this process's event loop.
    const child = spawn(PYTHON, [join(FIXTURES, 'cut_answers_driver.py'), cutting.url, server.url, old.url, late.url, stale.url], { env: pythonEnv(server.url), timeout: 100_000 });
    const py = { stdout: '', stderr: '', status: null as number | null };
    child.stdout.on('data', (d) => (py.stdout += d));
    child.stderr.on('data', (d) => (py.stderr += d));
    py.status = await new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    assert.equal(py.status, 0, py.stderr + py.stdout);
    const seen = JSON.parse(py.stdout.trim().split('\n').at(-1)!) as Record<string, any>;
    assert.deepEqual(seen.ask, [0, 1, [[0, 'RUNNING']]], 'the ask sent again got the trial the first one handed out, and nothing more was handed out');
    assert.deepEqual(seen.report, [false, [[10, 0.5]]], 'the report sent again: one value at its step, no "ignored" warning');
    assert.deepEqual(seen.heartbeat, ['expiresAt', 'owner', 'seconds', 'token']);
    assert.deepEqual(seen.tell, ['COMPLETE', 0.7, [[0, 'COMPLETE']]], 'the tell that landed is acknowledged, not a 409');
    assert.deepEqual(seen.release, [true, 'WAITING']);
    assert.deepEqual(seen.reasked, [true, 2]);
    assert.deepEqual(seen.failed, ['FAIL', 'RuntimeError: out of memory']);
    assert.deepEqual(seen.conflict, ['CONFLICT', true, 0.1], 'a tell whose trial holds another outcome still fails');
    assert.deepEqual(seen.slowAsk, [3, 1], 'an ask answered after the client gave up waiting is sent again and gets the trial the first try handed out');
    assert.deepEqual(seen.legacy, [4, false], 'an older server that refuses askId: asked again without it, and not named after');
    assert.deepEqual(seen.legacyCut, ['DISCONNECTED', true], 'an unnamed ask cut is not sent again (it may have handed out trials)');
    assert.deepEqual(seen.outcomeUnknown, ['COMPLETE', 0.4, 'COMPLETE', 0.4], 'a tell answered STORAGE_OUTCOME_UNKNOWN is sent again, and finds that it landed');
    assert.deepEqual(seen.staleAnswer, [[1], true], 'optimize renews a trial whose ask was answered a heartbeat\'s interval late, and skips it when its lease is gone');
    assert.deepEqual(seen.created, [true, ['cut', 'cut-again', 'stale']], 'a create_study with exist_ok cut and sent again loads the study its first try made, and makes no other');
    for (const line of ['closed the connection before answering (restarting?); sending it again is safe', 'within 0.5 s; sending it again is safe']) assert.ok(py.stderr.includes(line), py.stderr);
  } finally {
    await cutting.close();
    await old.close();
    await late.close();
    await stale.close();
    await server.stop();
  }
});
