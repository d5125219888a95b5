// The worker-thread host: the event loop keeps turning during a 2,000-trial ask, ids and order stay on the main side, a crash rejects and rebuilds, close terminates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../src/errors.js';
import { Rng } from '../../src/gp/rng.js';
import { BayesianOptimizer } from '../../src/optimizer/bayesian.js';
import { EncodedSpace, type SearchSpace } from '../../src/optimizer/space.js';
import { ThreadedOptimizer } from '../../src/optimizer/threaded.js';
import type { Optimizer } from '../../src/optimizer/types.js';

const CRASHING_WORKER = fileURLToPath(new URL('./fixtures/crashing_worker.js', import.meta.url));

/** 7-D like the study's schedule space: six floats (one log) and a categorical. */
const SPACE: SearchSpace = {
  a: { type: 'float', low: 0, high: 0.5 },
  b: { type: 'float', low: 1, high: 5, log: true },
  c: { type: 'float', low: 0, high: 1 },
  d: { type: 'float', low: 0, high: 6 },
  e: { type: 'float', low: 0, high: 1 },
  s: { type: 'categorical', choices: ['linear', 'cosine', 'exponential'] },
  m: { type: 'float', low: 0.9, high: 0.999 },
};
const encoded = new EncodedSpace(SPACE);

async function observe(opt: Optimizer, n: number, seed = 1): Promise<void> {
  const rng = new Rng(seed, n);
  for (let i = 0; i < n; i++) {
    const x = encoded.sampleUniform(rng);
    await opt.addObservation(encoded.decode(x), Math.sin(3 * x[0]!) + x[2]! * x[3]! - (x[4]! - 0.3) ** 2 + 0.1 * x[5]! + 0.01 * rng.normal());
  }
}

/** Timer ticks that fire while `work` is in flight. */
async function ticksDuring(work: () => Promise<unknown>): Promise<number> {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return ticks;
}

test('the event loop keeps running while an ask at n = 2,000 works in the worker (and does not in process)', async () => {
  const options = { space: SPACE, direction: 'maximize' as const, seed: 3 };
  const threaded = new ThreadedOptimizer('gp', options);
  const inProcess = new BayesianOptimizer(options);
  try {
    await observe(threaded, 2000);
    await observe(inProcess, 2000);
    const threadedTicks = await ticksDuring(() => threaded.ask(1));
    const inProcessTicks = await ticksDuring(() => inProcess.ask(1));
    // The in-process ask holds the loop for its whole duration: no tick can fire until it returns.
    assert.equal(inProcessTicks, 0, 'an in-process ask should block the loop (otherwise this test proves nothing)');
    assert.ok(threadedTicks >= 3, `only ${threadedTicks} timer ticks during the threaded ask`);
  } finally {
    await threaded.close();
  }
});

test('suggestions equal the in-process optimizer\'s for the same history, with pending trials added synchronously in between', async () => {
  const options = { space: SPACE, direction: 'maximize' as const, seed: 4, initialTrials: 5 };
  const threaded = new ThreadedOptimizer('gp', options);
  const local = new BayesianOptimizer(options);
  try {
    for (const opt of [threaded, local] as Optimizer[]) await observe(opt, 12, 2);
    const pending = encoded.decode(encoded.sampleUniform(new Rng(8)));
    const ids = [threaded.addPending(pending), local.addPending(pending)];
    assert.equal(ids[0], ids[1], 'ids are assigned on the main side, the same way');
    // Told right away: the worker must see the pending message before the tell.
    await threaded.tell(ids[0]!, 0.5);
    await local.tell(ids[1]!, 0.5);
    const [a, b] = [await threaded.ask(2), await local.ask(2)];
    assert.deepEqual(a, b);
    // Bad input fails on the main side with the usual error, synchronously for addPending.
    assert.throws(() => threaded.addPending({ ...pending, s: 'square' }), ConfigError);
    await assert.rejects(threaded.tell('t999', 1), (e: unknown) => (e as { code?: string }).code === 'NOT_FOUND');
  } finally {
    await threaded.close();
  }
});

test('a crashed worker rejects the call with OPTIMIZER_WORKER_CRASHED and is replaced, rebuilt from the main-side record', async () => {
  const options = { space: SPACE, direction: 'maximize' as const, seed: 5, initialTrials: 5 };
  const threaded = new ThreadedOptimizer('gp', options, { filename: CRASHING_WORKER });
  const local = new BayesianOptimizer(options);
  try {
    for (const opt of [threaded, local] as Optimizer[]) await observe(opt, 10, 3);
    const pending = encoded.decode(encoded.sampleUniform(new Rng(9)));
    threaded.addPending(pending);
    local.addPending(pending);
    await assert.rejects(threaded.ask(7), (e: unknown) => {
      const err = e as { code?: string; status?: number; message: string };
      return err.code === 'OPTIMIZER_WORKER_CRASHED' && err.status === 503 && /10 observations and 1 pending/.test(err.message) && /retry/.test(err.message);
    });
    assert.equal(threaded.restarts, 1);
    // The replacement knows the observations and the pending trial: it suggests what the in-process optimizer does.
    assert.deepEqual(await threaded.ask(2), await local.ask(2));
    assert.ok(await threaded.recommend());
  } finally {
    await threaded.close();
  }
});

test('close terminates the worker: a call in flight and later calls reject with OPTIMIZER_CLOSED', async () => {
  const threaded = new ThreadedOptimizer('gp', { space: SPACE, direction: 'minimize', seed: 6 });
  await observe(threaded, 300);
  const inFlight = assert.rejects(threaded.ask(1), (e: unknown) => (e as { code?: string }).code === 'OPTIMIZER_CLOSED');
  await threaded.close();
  await inFlight;
  await assert.rejects(threaded.importance(), (e: unknown) => (e as { code?: string }).code === 'OPTIMIZER_CLOSED');
  assert.throws(() => threaded.addPending(encoded.decode(encoded.sampleUniform(new Rng(1)))), (e: unknown) => (e as { code?: string }).code === 'OPTIMIZER_CLOSED');
});

test('a bad option fails the constructor on the main side, before any worker starts', () => {
  assert.throws(() => new ThreadedOptimizer('gp', { space: SPACE, direction: 'sideways' as 'minimize' }), ConfigError);
});

test('importance crosses the thread as the in-process optimizer gives it: shares on a real signal, the reason on a flat one', async () => {
  for (const flat of [false, true]) {
    const options = { space: SPACE, direction: 'minimize' as const, seed: 8 };
    const threaded = new ThreadedOptimizer('gp', options);
    const local = new BayesianOptimizer(options);
    try {
      const rng = new Rng(3, 0);
      for (let i = 0; i < 20; i++) {
        const params = encoded.decode(encoded.sampleUniform(rng));
        const value = flat ? 0.5 : 10 * (params.c as number);
        await threaded.addObservation(params, value);
        await local.addObservation(params, value);
      }
      const got = await threaded.importance();
      assert.deepEqual(got, await local.importance());
      assert.equal(got?.status, flat ? 'flat' : 'available', JSON.stringify(got));
      if (got?.status === 'flat') assert.match(got.reason, /\w/);
    } finally {
      await threaded.close();
    }
  }
});
