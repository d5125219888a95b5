// Killing any process of a queued study at any moment loses nothing and trains nothing twice (real Redis, CLI processes, a counting fixture trainer).
import { countsTowardBudget } from '../../src/shared/roles.js';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStorage } from '../../src/study/storage/index.js';
import { startRelay } from '../fixtures/relay.js';
import { cli, describeTrials, deletePrefix, exitOf, pgSkip, REDIS_URL, redisSkip, Scene, type Store, until } from './helpers.js';
import type { TrialRecord } from '../../src/study/types.js';
import { trainedBy } from '../../src/shared/trained_on.js';

const redisDown = await redisSkip();
const pgDown = redisDown || (await pgSkip());
const scenes: Scene[] = [];
after(async () => {
  for (const s of scenes) await s.cleanup();
});

async function scene(store: Store, name: string, config: Record<string, unknown>, stepMs?: number): Promise<Scene> {
  const s = await Scene.create(store, name, config, stepMs);
  scenes.push(s);
  return s;
}

/** Every scenario runs on both stores: SQLite (processes sharing one file) and PostgreSQL (a server); skipped, never passed, without the services. */
function both(title: string, fn: (store: Store) => Promise<void>): void {
  test(`${title} [sqlite]`, { skip: redisDown }, () => fn('sqlite'));
  test(`${title} [postgres]`, { skip: pgDown }, () => fn('postgres'));
}

/** The trials the budget counts (search and baselines): race and final runs of the evidence phase come on top. */
const search = (ts: TrialRecord[]) => ts.filter((t) => countsTowardBudget(t.role));
const finals = (ts: TrialRecord[]) => ts.filter((t) => t.role.startsWith('final:'));

/** The RUNNING trial held by process `pid` that has reported at least one value (so it is truly mid-training). */
async function midTrial(s: Scene, pid: number): Promise<TrialRecord | undefined> {
  return (await s.read()).trials.find((t) => t.state === 'RUNNING' && t.lease?.owner.split(':')[1] === String(pid) && t.intermediate.length > 0);
}

/** Every trial of the study started training exactly once (from the fixture's log), except those in `twice`. */
function assertTrainedOnce(s: Scene, trials: TrialRecord[], twice: number[] = []): void {
  const log = s.trainings();
  for (const t of trials) {
    const n = log.get(t.id)?.starts.length ?? 0;
    assert.equal(n, twice.includes(t.id) ? 2 : 1, `trial #${t.number} (id ${t.id}) started training ${n} times; log: ${JSON.stringify([...log])}`);
  }
}

both('a worker SIGKILLed mid-trial: the trial is re-run by another worker and completes once; nothing FAILs', async (store) => {
  const s = await scene(store, 'kill-worker', { scenario: { steps: 120, evalInterval: 20 }, budget: { trials: 6 }, finalValidation: { seeds: 0 } });
  const coordinator = s.coordinator();
  await until('the study in the database', async () => (await s.read()).study);
  const a = s.worker();
  const b = s.worker();
  const victim = await until('worker A mid-trial', () => midTrial(s, a.child.pid!));
  a.child.kill('SIGKILL');
  const done = await exitOf(coordinator);
  assert.equal(done.code, 0, done.out);
  const { trials } = await s.read();
  assert.equal(search(trials).length, 6, describeTrials(trials));
  assert.ok(trials.every((t) => t.state === 'COMPLETE'), describeTrials(trials));
  const rerun = trials.find((t) => t.id === victim.id)!;
  assert.equal(rerun.retries, 1, 'the killed run counts as one retry, well under maxRetries');
  assert.match(done.out, new RegExp(`\\[queue\\] trial #${rerun.number} lost its worker \\(the lease expired, or the process died\\): queued again \\(retry 1\\)`), 'the coordinator says so');
  const log = s.trainings().get(victim.id)!;
  assert.deepEqual(log.starts[0], a.child.pid, 'worker A started it');
  assert.deepEqual(log.ends.map((e) => e.split(':')[0]), [String(b.child.pid)], 'only worker B finished it');
  assert.match(trainedBy(rerun.metrics) ?? '', new RegExp(`^[^:]+:${b.child.pid}:worker-[0-9a-f]{14}$`), 'the trial names worker B, which trained it to its end');
  assertTrainedOnce(s, trials, [victim.id]);
  assert.equal((await exitOf(b)).code, 0, 'the surviving worker leaves on its own once the study is done');
});

both('the coordinator SIGKILLed and restarted: the study completes within budget, nothing trains twice', async (store) => {
  const s = await scene(store, 'kill-coordinator', { scenario: { steps: 60, evalInterval: 20 }, budget: { trials: 8 }, finalValidation: { seeds: 1 } });
  const first = s.coordinator();
  await until('the study in the database', async () => (await s.read()).study);
  const workers = [s.worker(), s.worker()];
  await until('two finished trials', async () => (await s.read()).trials.filter((t) => t.state === 'COMPLETE').length >= 2);
  first.child.kill('SIGKILL');
  assert.equal((await first.exited).signal, 'SIGKILL');
  const second = s.coordinator();
  const done = await exitOf(second);
  assert.equal(done.code, 0, done.out);
  assert.match(done.out, /continuing the study/);
  const { study, trials } = await s.read();
  assert.equal(study!.state, 'COMPLETE');
  assert.equal(search(trials).length, 8, `the budget holds across the restart: ${describeTrials(trials)}`);
  assert.equal(finals(trials).length, 3, 'final validation: 3 arms x 1 seed');
  assert.ok(trials.every((t) => t.state === 'COMPLETE' && t.retries === 0), describeTrials(trials));
  assertTrainedOnce(s, trials);
  for (const w of workers) assert.equal((await exitOf(w)).code, 0);
});

both('Redis loses every key of the queue mid-study: the coordinator re-enqueues from the database and the study completes', async (store) => {
  const s = await scene(store, 'lose-redis', { scenario: { steps: 60, evalInterval: 20 }, budget: { trials: 8 }, finalValidation: { seeds: 1 } });
  const coordinator = s.coordinator();
  await until('the study in the database', async () => (await s.read()).study);
  const workers = [s.worker(), s.worker()];
  await until('a finished trial and two running', async () => {
    const { trials } = await s.read();
    return trials.some((t) => t.state === 'COMPLETE') && trials.filter((t) => t.state === 'RUNNING').length === 2;
  });
  assert.ok((await deletePrefix(s.prefix)) > 0, 'the queue had keys to lose');
  await until('another finished trial', async () => (await s.read()).trials.filter((t) => t.state === 'COMPLETE').length >= 4);
  await deletePrefix(s.prefix);
  const done = await exitOf(coordinator);
  assert.equal(done.code, 0, done.out);
  const { trials } = await s.read();
  assert.equal(search(trials).length, 8, describeTrials(trials));
  assert.equal(finals(trials).length, 3);
  assert.ok(trials.every((t) => t.state === 'COMPLETE'), describeTrials(trials));
  // The trials running during the loss kept their database leases and finished where they were.
  assertTrainedOnce(s, trials);
  for (const w of workers) assert.equal((await exitOf(w)).code, 0);
});

both('two coordinators on one study (started together): every trial trains once and the budget is exact', async (store) => {
  const s = await scene(store, 'two-coordinators', { scenario: { steps: 40, evalInterval: 20 }, budget: { trials: 10 }, finalValidation: { seeds: 1 } });
  const c1 = s.coordinator();
  const c2 = s.coordinator();
  await until('the study in the database', async () => (await s.read()).study);
  const workers = [s.worker(['--concurrency', '2']), s.worker()];
  const [d1, d2] = await Promise.all([exitOf(c1), exitOf(c2)]);
  assert.equal(d1.code, 0, d1.out);
  assert.equal(d2.code, 0, d2.out);
  const { trials } = await s.read();
  assert.equal(search(trials).length, 10, describeTrials(trials));
  assert.equal(finals(trials).length, 3, 'final runs are keyed: created once by whichever coordinator got there');
  assert.ok(trials.every((t) => t.state === 'COMPLETE'), describeTrials(trials));
  assertTrainedOnce(s, trials);
  for (const w of workers) assert.equal((await exitOf(w)).code, 0);
});

both('an expired lease is reclaimed by another worker, and the frozen worker\'s stale token is refused when it wakes', async (store) => {
  const s = await scene(store, 'steal-lease', { scenario: { steps: 200, evalInterval: 20 }, budget: { trials: 4 }, finalValidation: { seeds: 0 }, leaseSeconds: 5 });
  const coordinator = s.coordinator();
  await until('the study in the database', async () => (await s.read()).study);
  const a = s.worker(['--idle-exit', '60']);
  const victim = await until('worker A mid-trial', () => midTrial(s, a.child.pid!));
  // Frozen, not dead: its process exists, so only the lease's expiry can free the trial.
  a.child.kill('SIGSTOP');
  const b = s.worker();
  const stolen = await until('worker B holding the trial under a newer token', async () => {
    const t = (await s.read()).trials.find((x) => x.id === victim.id)!;
    return t.state === 'RUNNING' && t.lease!.owner.split(':')[1] === String(b.child.pid) && t.lease!.token > victim.lease!.token ? t : undefined;
  }, 30_000);
  assert.equal(stolen.retries, 1, 'the expiry counts as a retry');
  a.child.kill('SIGCONT');
  await until('worker A to notice', () => /lease lost/.test(a.out()), 30_000);
  const done = await exitOf(coordinator);
  assert.equal(done.code, 0, done.out);
  const { trials } = await s.read();
  const t = trials.find((x) => x.id === victim.id)!;
  assert.equal(t.state, 'COMPLETE', 'worker B\'s result stands; the zombie could not overwrite it (it would have recorded PRUNED or FAIL)');
  assert.ok(trials.every((x) => x.state === 'COMPLETE'), describeTrials(trials));
  assert.deepEqual(s.trainings().get(victim.id)!.starts, [a.child.pid, b.child.pid]);
  a.child.kill('SIGTERM');
  assert.equal((await exitOf(a)).code, 0);
  assert.equal((await exitOf(b)).code, 0);
});

both('`stop` from another process while the queue is full: the coordinator ends at its next pass, its worker hands the trial back, nothing spins', async (store) => {
  const s = await scene(store, 'outside-stop', { scenario: { steps: 400, evalInterval: 20 }, budget: { trials: 20 }, finalValidation: { seeds: 0 }, leaseSeconds: 6 }, 50);
  const coordinator = s.coordinator(['--queue-depth', '2']);
  await until('the study in the database', async () => (await s.read()).study);
  const w = s.worker();
  await until('the worker mid-trial', () => midTrial(s, w.child.pid!));
  const stop = await exitOf(cli(['stop', 'outside-stop', '--db', s.db]), 30_000);
  assert.equal(stop.code, 0, stop.out);
  // Two trials in flight = the depth: the coordinator never asks, so only a look at the study can see the stop.
  const ended = await exitOf(coordinator, 20_000);
  assert.equal(ended.code, 130, ended.out);
  assert.match(ended.out, /resume: npx renorm-tune run /);
  const left = await exitOf(w, 30_000);
  assert.equal(left.code, 0, left.out);
  assert.match(left.out, /handed back to the queue \(study stopped\)/);
  const { study, trials } = await s.read();
  assert.equal(study!.state, 'STOPPED');
  assert.equal(trials.filter((t) => t.state === 'RUNNING').length, 0, describeTrials(trials));
  assert.ok(trials.length < 20, `the search stopped early (${trials.length} trials)`);
});

both('a study deleted while a worker trains its trial: the worker stops it at its next heartbeat, not at its end, and the coordinator ends saying so', async (store) => {
  // 4,000 steps of 50 ms: 200 s per trial; the heartbeat comes every 2 s.
  const s = await scene(store, 'deleted-mid-trial', { scenario: { steps: 4000, evalInterval: 20 }, budget: { trials: 4 }, finalValidation: { seeds: 0 }, leaseSeconds: 6 }, 50);
  const coordinator = s.coordinator(['--queue-depth', '1']);
  await until('the study in the database', async () => (await s.read()).study);
  const w = s.worker();
  const victim = await until('the worker mid-trial', () => midTrial(s, w.child.pid!));
  const del = await exitOf(cli(['delete', 'deleted-mid-trial', '--yes', '--db', s.db]), 30_000);
  assert.equal(del.code, 0, del.out);
  await until('the worker to stop the trial', () => new RegExp(`trial #${victim.number}( \\([^)]*\\))? of 'deleted-mid-trial': stopped: its study was deleted`).test(w.out()), 30_000)
    .catch((err: Error) => assert.fail(`${err.message}; worker: ${w.out()}; coordinator: ${coordinator.out()}`));
  const ended = await exitOf(coordinator, 30_000);
  assert.equal(ended.code, 78, `not to be restarted (it would start the study anew): ${ended.out}`);
  assert.match(ended.out, /study 'deleted-mid-trial' \([0-9a-f]+\) was deleted while this run held it/);
  const left = await exitOf(w, 30_000);
  assert.equal(left.code, 0, left.out);
});

test('a queue deeper than one ask grants (--queue-depth 2000): the coordinator asks 1000 at a time and fills it over two passes', { skip: redisDown }, async () => {
  const s = await scene('sqlite', 'deep-queue', { optimizer: 'random', scenario: { steps: 100 }, budget: { trials: 1100 }, finalValidation: { seeds: 0 } });
  const coordinator = s.coordinator(['--queue-depth', '2000']);
  const all = await until('the whole budget asked', async () => {
    if (coordinator.child.exitCode !== null) throw new Error(`the coordinator exited ${coordinator.child.exitCode}:\n${coordinator.out()}`);
    const { trials } = await s.read();
    return trials.length === 1100 && trials;
  }, 60_000, 250);
  assert.ok(all.every((t) => t.state === 'WAITING'), 'no worker: everything waits');
  coordinator.child.kill('SIGINT');
  const ended = await exitOf(coordinator, 20_000);
  assert.equal(ended.code, 130, ended.out);
  assert.doesNotMatch(ended.out, /error/);
});

both('SIGTERM: a worker hands its running trial back (no retry counted) and exits 0; Ctrl-C on the coordinator stops the study and its workers hand their trials back', async (store) => {
  // 200 steps of 50 ms: 10 s per trial, so worker B is still training when its heartbeat (every 2 s) finds the study
  // stopped. At the default 10 ms a trial took 2 s, and on a loaded machine B's could end before that heartbeat came.
  const s = await scene(store, 'sigterm', { scenario: { steps: 200, evalInterval: 20 }, budget: { trials: 4 }, finalValidation: { seeds: 0 }, leaseSeconds: 6 }, 50);
  const coordinator = s.coordinator();
  await until('the study in the database', async () => (await s.read()).study);
  const a = s.worker();
  const victim = await until('worker A mid-trial', () => midTrial(s, a.child.pid!));
  a.child.kill('SIGTERM');
  const left = await exitOf(a, 20_000);
  assert.equal(left.code, 0, left.out);
  assert.match(left.out, /handed back to the queue \(worker stopping\)/);
  const back = (await s.read()).trials.find((t) => t.id === victim.id)!;
  assert.equal(back.state, 'WAITING');
  assert.equal(back.retries, 0, 'a clean hand-back is not a retry');

  const b = s.worker();
  await until('worker B mid-trial', () => midTrial(s, b.child.pid!));
  coordinator.child.kill('SIGINT');
  const stopped = await exitOf(coordinator, 20_000);
  assert.equal(stopped.code, 130, stopped.out);
  assert.match(stopped.out, /resume: npx renorm-tune run .* --redis /);
  // Worker B sees the study STOPPED at its next heartbeat (every leaseSeconds / 3), hands its trial back and, with no coordinator left, leaves.
  const bLeft = await exitOf(b, 30_000);
  assert.equal(bLeft.code, 0, bLeft.out);
  assert.match(bLeft.out, /handed back to the queue \(study stopped\)/);
  const { study, trials } = await s.read();
  assert.equal(study!.state, 'STOPPED');
  assert.equal(trials.filter((t) => t.state === 'RUNNING').length, 0, describeTrials(trials));
  assert.ok(trials.every((t) => t.retries === 0), describeTrials(trials));
});

both('a study deleted while its coordinator runs: that coordinator ends, and the worker it shared keeps serving another study to the end', async (store) => {
  const s = await scene(store, 'doomed', { scenario: { steps: 200, evalInterval: 20 }, budget: { trials: 40 }, finalValidation: { seeds: 0 }, leaseSeconds: 6 });
  const kept = join(s.dir, 'kept.json');
  writeFileSync(kept, JSON.stringify({ name: 'kept', optimizer: { type: 'random' }, scenario: { steps: 100, evalInterval: 20 }, budget: { trials: 6 }, finalValidation: { seeds: 0 } }));
  const doomed = s.coordinator(['--queue-depth', '2']);
  await until('the study in the database', async () => (await s.read()).study);
  const other = s.track(cli(['run', kept, '--db', s.db, '--redis', REDIS_URL, '--redis-prefix', s.prefix, '--queue-depth', '2']));
  const w = s.worker(['--concurrency', '2']);
  await until('the worker mid-trial on the doomed study', () => midTrial(s, w.child.pid!));
  const del = await exitOf(cli(['delete', 'doomed', '--db', s.db, '--yes']), 30_000);
  assert.equal(del.code, 0, del.out);
  const ended = await exitOf(doomed, 30_000);
  assert.notEqual(ended.code, 0, ended.out);
  assert.match(ended.out, /error: study 'doomed' \(\w+\) was deleted while this run held it/);
  const done = await exitOf(other, 120_000);
  assert.equal(done.code, 0, `the other study completes on the same worker:\n${done.out}\nworker:\n${w.out()}`);
  const left = await exitOf(w, 30_000);
  assert.equal(left.code, 0, left.out);
  assert.doesNotMatch(left.out, /error/);
  const storage = await openStorage(s.db);
  try {
    assert.equal(await storage.findStudyByName('doomed'), undefined);
    const study = (await storage.findStudyByName('kept'))!;
    const trials = await storage.listTrials(study.id);
    assert.equal(search(trials).filter((t) => t.state === 'COMPLETE').length, 6, describeTrials(trials));
  } finally {
    await storage.close();
  }
});

test('Redis unreachable for a while: the coordinator says so once and says when it is back, and the study completes [sqlite]', { skip: redisDown, timeout: 120_000 }, async () => {
  const s = await scene('sqlite', 'redis-away', { scenario: { steps: 60, evalInterval: 20 }, budget: { trials: 6 }, finalValidation: { seeds: 1 } });
  // Only the coordinator's Redis goes through the relay: its workers keep theirs.
  const relay = await startRelay(new URL(REDIS_URL));
  try {
    const coordinator = s.track(cli(['run', s.config, '--db', s.db, '--redis', relay.via(REDIS_URL).href, '--redis-prefix', s.prefix]));
    await until('the study in the database', async () => (await s.read()).study);
    const worker = s.worker();
    await until('a finished trial', async () => (await s.read()).trials.some((t) => t.state === 'COMPLETE'));
    relay.cut();
    await until('the coordinator seeing Redis gone', () => /\[queue\] lost Redis at /.test(coordinator.out()), 30_000);
    await new Promise((r) => setTimeout(r, 3000));
    relay.restore();
    const done = await exitOf(coordinator);
    assert.equal(done.code, 0, done.out);
    assert.equal(done.out.match(/lost Redis at/g)?.length, 1, done.out);
    assert.match(done.out, /\[queue\] lost Redis at redis:\/\/127\.0\.0\.1:\d+\/? \([^)]+\): trials in training go on \(their leases live in the database\); queuing new ones waits until it is back/);
    assert.match(done.out, /\[queue\] Redis at \S+ is back after \d+(\.\d)? s/);
    const { trials } = await s.read();
    assert.equal(search(trials).length, 6, describeTrials(trials));
    assert.ok(trials.every((t) => t.state === 'COMPLETE'), describeTrials(trials));
    assertTrainedOnce(s, trials);
    assert.equal((await exitOf(worker)).code, 0);
  } finally {
    await relay.close();
  }
});
