// The PostgreSQL server goes away mid-study (a relay in front of it is cut): the coordinator stops with a clear error,
// workers leave, and once the server is back the same `run` finishes the study without losing or doubling a trial.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { countsTowardBudget } from '../../src/shared/roles.js';
import { startRelay } from '../fixtures/relay.js';
import { describeTrials, exitOf, pgSkip, redisSkip, Scene, until } from './helpers.js';

const skip = (await redisSkip()) || (await pgSkip());
const scenes: Scene[] = [];
after(async () => {
  for (const s of scenes) await s.cleanup();
});

test('PostgreSQL goes away mid-trial: the coordinator stops with an error naming the database, workers leave; after it is back, `run` again completes the study and only the interrupted trial trains twice', { skip, timeout: 240_000 }, async () => {
  const s = await Scene.create('postgres', 'pg-outage', { scenario: { steps: 400, evalInterval: 20 }, budget: { trials: 4 }, finalValidation: { seeds: 0 }, leaseSeconds: 5 });
  scenes.push(s);
  const r = await startRelay(new URL(s.db));
  const via = r.via(s.db);
  via.searchParams.set('connect_timeout', '2');
  try {
    const first = s.coordinator([], via.href);
    await until('the study in the database', async () => (await s.read()).study);
    const worker = s.worker([], via.href);
    const victim = await until('a trial mid-training', async () => (await s.read()).trials.find((t) => t.state === 'RUNNING' && t.intermediate.length > 0));

    r.cut();
    const stopped = await exitOf(first, 60_000);
    assert.notEqual(stopped.code, 0, `the coordinator cannot go on without its database:\n${stopped.out}`);
    assert.match(stopped.out, /the database is unreachable .*retry when it is back/, stopped.out);
    assert.ok(stopped.out.includes(`127.0.0.1:${r.port}`), `the error names the database it lost:\n${stopped.out}`);
    assert.doesNotMatch(stopped.out, /\n\s+at .+\(.+:\d+:\d+\)/, `a clear message, not a stack trace:\n${stopped.out}`);
    const left = await exitOf(worker, 90_000);
    assert.equal(left.code, 0, `the worker leaves on its own once no coordinator is alive:\n${left.out}`);
    assert.match(left.out, /no coordinator left/);

    r.restore();
    const second = s.coordinator([], via.href);
    const again = s.worker([], via.href);
    const done = await exitOf(second, 120_000);
    assert.equal(done.code, 0, done.out);
    assert.equal((await exitOf(again)).code, 0);

    const { study, trials } = await s.read();
    assert.equal(study!.state, 'COMPLETE');
    const budgeted = trials.filter((t) => countsTowardBudget(t.role));
    assert.equal(budgeted.length, 4, `the budget holds across the outage: ${describeTrials(trials)}`);
    assert.ok(trials.every((t) => t.state === 'COMPLETE'), describeTrials(trials));
    const log = s.trainings();
    for (const t of trials) {
      const starts = log.get(t.id)?.starts.length ?? 0;
      // The trial cut off mid-training ran again once its lease expired (one retry); every other trial trained once.
      if (t.id === victim.id) assert.deepEqual([starts, t.retries], [2, 1], `the interrupted trial: ${describeTrials(trials)}`);
      else assert.deepEqual([starts, t.retries], [1, 0], `trial #${t.number}: ${describeTrials(trials)}; log ${JSON.stringify([...log])}`);
    }
  } finally {
    await r.close();
  }
});
