// `worker --metrics-port`: a queue worker's Prometheus metrics and liveness check, scraped while it serves a real
// queue run; its counts agree with the database; its flags are checked before anything connects.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { countsTowardBudget } from '../../src/shared/roles.js';
import { cli, exitOf, redisSkip, Scene, until } from './helpers.js';

const skip = await redisSkip();
const scenes: Scene[] = [];
after(async () => {
  for (const s of scenes) await s.cleanup();
});

/** `name{labels} value` lines of a scrape, as a map from the line's name-and-labels to its value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

test('counts the trials it trained by outcome and by what they trained on, its slots and busy slots, and answers /health, while serving a queue run', { skip, timeout: 120_000 }, async () => {
  const s = await Scene.create('sqlite', 'metered-worker', { scenario: { steps: 20 }, budget: { trials: 4 }, finalValidation: { seeds: 0, race: { candidates: 1 } } });
  scenes.push(s);
  const coordinator = s.coordinator();
  await until('the study in the database', async () => (await s.read()).study);
  const worker = s.worker(['--concurrency', '2', '--metrics-port', '0', '--idle-exit', '0']);
  const url = await until('the metrics address', () => /metrics at (http:\/\/127\.0\.0\.1:\d+)\/metrics, liveness at \1\/health/.exec(worker.out())?.[1]);
  const done = await exitOf(coordinator, 100_000);
  assert.equal(done.code, 0, done.out);
  const { trials } = await s.read();
  assert.equal(trials.filter((t) => countsTowardBudget(t.role)).length, 4);
  // The last tell lands before the job is marked done: wait for the busy slots to drain.
  let scraped = new Map<string, number>();
  await until('no slot busy', async () => {
    const res = await fetch(`${url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    scraped = samples(await res.text());
    return scraped.get('renorm_tune_worker_busy_slots') === 0;
  });
  const byState = (state: string) => trials.filter((t) => t.state === state).length;
  assert.equal(scraped.get('renorm_tune_worker_trials_total{outcome="COMPLETE"}'), byState('COMPLETE'), 'every trial it completed, as the database has them');
  assert.equal(scraped.get('renorm_tune_worker_trials_total{outcome="FAIL"}'), byState('FAIL'));
  assert.equal(scraped.get('renorm_tune_worker_trials_total{outcome="handed_back"}'), 0);
  assert.equal(scraped.get('renorm_tune_worker_trials_total{outcome="error"}'), 0);
  // What they trained on: the stand-in trainer names its backend 'fake' and no device.
  const trainedToEnd = byState('COMPLETE') + byState('PRUNED') + byState('FAIL');
  assert.equal(scraped.get('renorm_tune_worker_trained_total{backend="fake",device="unknown"}'), trainedToEnd, [...scraped.keys()].join('\n'));
  assert.equal(scraped.get('renorm_tune_worker_slots'), 2);
  assert.ok([...scraped.keys()].some((k) => /^renorm_tune_worker_info\{owner="[^"]+:\d+:worker-[^"]+",version="[^"]+"\}$/.test(k)), [...scraped.keys()].join('\n'));
  assert.ok(scraped.has('renorm_tune_process_cpu_user_seconds_total'));
  const health = await fetch(`${url}/health`);
  assert.equal(health.status, 200);
  const body = await health.json() as { ok: boolean; owner: string };
  assert.equal(body.ok, true);
  assert.match(body.owner, /:worker-/);
  assert.equal((await fetch(`${url}/metrics`, { method: 'POST' })).status, 405);
  assert.equal((await fetch(`${url}/nope`)).status, 404);
  worker.child.kill('SIGTERM');
  assert.equal((await exitOf(worker, 30_000)).code, 0);
});

test('--metrics-host without --metrics-port and a bad port are refused before anything starts (exit 78), a port in use too (exit 1: it may be free at the next start)', { skip }, async () => {
  const s = await Scene.create('sqlite', 'metrics-flags', {});
  scenes.push(s);
  const base = ['worker', '--db', s.db, '--redis', s.redis, '--redis-prefix', s.prefix];
  const noPort = await exitOf(cli([...base, '--metrics-host', '0.0.0.0']), 30_000);
  assert.equal(noPort.code, 78);
  assert.match(noPort.out, /--metrics-host: applies only with --metrics-port/);
  const badPort = await exitOf(cli([...base, '--metrics-port', '70000']), 30_000);
  assert.equal(badPort.code, 78);
  assert.match(badPort.out, /--metrics-port: must be an integer in \[0, 65535\], got "70000"/);
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
  try {
    const port = (taken.address() as { port: number }).port;
    const inUse = await exitOf(cli([...base, '--metrics-port', String(port)]), 30_000);
    assert.equal(inUse.code, 1);
    assert.match(inUse.out, new RegExp(`--metrics-port: 127\\.0\\.0\\.1:${port} is already in use \\(fix: pick another --metrics-port`));
    assert.doesNotMatch(inUse.out, /slot/, 'the worker never started');
  } finally {
    taken.close();
  }
});
