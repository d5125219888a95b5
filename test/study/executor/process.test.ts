// ProcessExecutor: one child process per slot (per device), the same outcomes as the thread pool, and real wasm training in a child.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { validateScenario } from '../../../src/train/scenario.js';
import { STOP_SIGNAL_GRACE_MS } from '../../../src/study/executor/process.js';
import { ProcessExecutor, type TrialJob, type TrialProgress } from '../../../src/study/executor/index.js';

const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/workers/${name}.js`, import.meta.url));
const job = (scenario: Record<string, unknown> = {}, trialId = 1): TrialJob => ({
  trialId,
  scenario,
  schedule: { kind: 'ramp', shape: 'linear', warmup: 0.1, rmaxFinal: 3, rmaxEnd: 0.8, dmaxFinal: 5, dmaxEnd: 0.5 },
  seed: 1,
});

test('process executor: progress streams before the outcome, stop() ends a run early', async () => {
  const ex = new ProcessExecutor({ processes: 1, filename: fixture('fake_trainer'), loadDataset: false });
  try {
    const seen: TrialProgress[] = [];
    const out = await ex.start(job({ steps: 20, evalInterval: 5 }), { onProgress: (p) => seen.push(p) }).outcome;
    assert.equal(out.kind, 'ok');
    assert.deepEqual(seen.map((p) => p.step), [5, 10, 15, 20]);
    const run = ex.start(job({ steps: 2000, evalInterval: 5, delayMs: 2 }), { onProgress: (p) => p.step === 10 && run.stop() });
    const stopped = await run.outcome;
    assert.equal(stopped.kind, 'stopped');
    assert.ok(stopped.kind === 'stopped' && stopped.result.steps < 2000);
  } finally {
    await ex.close();
  }
});

test('process executor: one process per device, each seeing only its own CUDA_VISIBLE_DEVICES, reused between trials', async () => {
  const ex = new ProcessExecutor({ devices: ['0', '1'], filename: fixture('env_probe'), loadDataset: false });
  try {
    assert.equal(ex.slots, 2);
    const outs = await Promise.all([1, 2, 3, 4].map((i) => ex.start(job({ holdMs: 200 }, i)).outcome));
    const results = outs.map((o) => (o.kind === 'ok' ? o.result : assert.fail(JSON.stringify(o))));
    assert.deepEqual(new Set(results.map((r) => r.visibleDevices)), new Set(['0', '1']));
    const pids = new Set(results.map((r) => r.pid));
    assert.equal(pids.size, 2, 'two long-lived children, not one per trial');
    assert.ok(results.every((r) => r.allowGrowth === 'true'), 'TensorFlow grows GPU memory on demand, so processes can share a GPU');
    assert.ok(!pids.has(process.pid), 'never in the parent process');
  } finally {
    await ex.close();
  }
});

test('process executor: a child that dies while idle, between trials, is replaced: the next trial runs on a fresh child instead of hanging', async () => {
  const ex = new ProcessExecutor({ processes: 1, filename: fixture('exits_later'), loadDataset: false });
  try {
    const first = await ex.start(job({}, 1)).outcome;
    assert.equal(first.kind, 'ok', JSON.stringify(first));
    // Its process exits 100 ms after the result: wait until it is gone (however slow the machine), then one more
    // turn of the event loop so the executor has handled the exit.
    const pid = (first.kind === 'ok' ? (first.result as unknown as { pid: number }).pid : 0);
    for (let i = 0; i < 400; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        break;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    await new Promise((r) => setImmediate(r));
    const second = await Promise.race([
      ex.start(job({}, 2), { timeoutMs: 5000 }).outcome,
      new Promise<'hung'>((r) => setTimeout(() => r('hung'), 10_000)),
    ]);
    assert.notEqual(second, 'hung', 'the trial never settled: it was sent to the dead child');
    assert.equal(second !== 'hung' && second.kind, 'ok', JSON.stringify(second));
    const pids = [first, second].map((o) => (o !== 'hung' && o.kind === 'ok' ? (o.result as { pid?: number }).pid : undefined));
    assert.notEqual(pids[0], pids[1], 'a fresh child');
  } finally {
    await ex.close();
  }
});

test('process executor: a trial over trialMemoryMb fails with the memory limit named', async () => {
  const ex = new ProcessExecutor({ processes: 1, filename: fixture('oom'), loadDataset: false, memoryMb: 64 });
  try {
    const out = await ex.start(job()).outcome;
    assert.equal(out.kind, 'failed');
    assert.match(out.kind === 'failed' ? out.reason : '', /worker process died \(.*\): most likely out of memory \(trialMemoryMb = 64\)/);
  } finally {
    await ex.close();
  }
});

test('process executor: a trainer that throws or a child that dies fails its trial with the reason; the next trial gets a fresh child', async () => {
  const throws = new ProcessExecutor({ filename: fixture('throws'), loadDataset: false });
  try {
    const out = await throws.start(job()).outcome;
    assert.equal(out.kind, 'failed');
    assert.match(out.kind === 'failed' ? out.reason : '', /trial threw: fixture trainer exploded/);
  } finally {
    await throws.close();
  }
  const exits = new ProcessExecutor({ devices: ['3'], filename: fixture('exits'), loadDataset: false });
  try {
    for (let i = 0; i < 2; i++) {
      const out = await exits.start(job()).outcome;
      assert.equal(out.kind, 'failed');
      assert.match(out.kind === 'failed' ? out.reason : '', /worker process died \(exit code 7\) on device 3/);
    }
  } finally {
    await exits.close();
  }
});

test('process executor: a cancelled run kills its child (outcome cancelled); a timeout fails the trial', async () => {
  const ex = new ProcessExecutor({ filename: fixture('fake_trainer'), loadDataset: false });
  try {
    const ac = new AbortController();
    const run = ex.start(job({ steps: 100_000, delayMs: 2 }), { signal: ac.signal, onProgress: () => ac.abort() });
    assert.deepEqual(await run.outcome, { kind: 'cancelled' });
    const slow = await ex.start(job({ steps: 100_000, delayMs: 2 }), { timeoutMs: 300 }).outcome;
    assert.equal(slow.kind, 'failed');
    assert.match(slow.kind === 'failed' ? slow.reason : '', /timed out after 0.3 s/);
    assert.equal((await ex.start(job({ steps: 5 })).outcome).kind, 'ok', 'the slot recovers');
  } finally {
    await ex.close();
  }
});

test('process executor: a child killed by a stop signal (a process group\'s Ctrl-C) waits for the caller\'s cancel: cancelled when it comes, failed with the signal when it does not; SIGKILL fails at once', async () => {
  const ex = new ProcessExecutor({ filename: fixture('signals_itself'), loadDataset: false });
  try {
    // The child dies 10 ms after its progress; our cancel comes 300 ms after it, well after its death was seen.
    for (const signal of ['SIGINT', 'SIGTERM']) {
      const ac = new AbortController();
      const run = ex.start(job({ signal }), { signal: ac.signal, onProgress: () => setTimeout(() => ac.abort(), 300) });
      assert.deepEqual(await run.outcome, { kind: 'cancelled' }, signal);
    }
    const t0 = Date.now();
    const alone = await ex.start(job({ signal: 'SIGINT' })).outcome;
    assert.equal(alone.kind, 'failed');
    assert.match(alone.kind === 'failed' ? alone.reason : '', /worker process died \(signal SIGINT\)/);
    assert.ok(Date.now() - t0 >= STOP_SIGNAL_GRACE_MS - 50, 'it waited for a cancel that never came');
    const killed = await ex.start(job({ signal: 'SIGKILL' }), { signal: new AbortController().signal }).outcome;
    assert.match(killed.kind === 'failed' ? killed.reason : JSON.stringify(killed), /worker process died \(signal SIGKILL\)/);
  } finally {
    await ex.close();
  }
});

test('process executor: the trial timeout counts the trial, not a fresh child loading its worker module; a start-up past startupMs fails the trial and says so', async () => {
  const ex = new ProcessExecutor({ filename: fixture('slow_import'), loadDataset: false });
  try {
    // The module takes 1.5 s to load; the trial itself is instant.
    const out = await ex.start(job(), { timeoutMs: 1000 }).outcome;
    assert.equal(out.kind, 'ok', JSON.stringify(out));
  } finally {
    await ex.close();
  }
  const stuck = new ProcessExecutor({ filename: fixture('slow_import'), loadDataset: false, startupMs: 300 });
  try {
    const out = await stuck.start(job(), { timeoutMs: 1000 }).outcome;
    assert.equal(out.kind, 'failed');
    assert.match(out.kind === 'failed' ? out.reason : '', /did not start within 0\.3 s \(loading the trial worker, its backend and the dataset in a fresh process\)/);
  } finally {
    await stuck.close();
  }
});

test('process executor: the real trainer on the wasm backend trains in a child process that loads the dataset itself', async () => {
  const ex = new ProcessExecutor({ processes: 1 });
  try {
    const scenario = validateScenario({ dataset: 'mnist', model: { type: 'mlp', hidden: [16] }, batchSize: 16, steps: 10, evalInterval: 5, validationSize: 200, evalSize: 100, trainSubset: 1000 }, 'scenario') as unknown as Record<string, unknown>;
    const seen: number[] = [];
    const out = await ex.start({ ...job(scenario), backend: 'wasm', schedule: { kind: 'paper' } }, { onProgress: (p) => seen.push(p.step) }).outcome;
    assert.equal(out.kind, 'ok', JSON.stringify(out));
    assert.equal(out.kind === 'ok' && out.result.backend, 'wasm');
    assert.deepEqual(seen, [5, 10]);
  } finally {
    await ex.close();
  }
});
