import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { PiscinaExecutor, type TrialJob, type TrialProgress } from '../../../src/study/executor/index.js';

const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/workers/${name}.js`, import.meta.url));
const job = (scenario: Record<string, unknown> = {}, trialId = 1): TrialJob => ({
  trialId,
  scenario,
  schedule: { kind: 'ramp', shape: 'linear', warmup: 0.1, rmaxFinal: 3, rmaxEnd: 0.8, dmaxFinal: 5, dmaxEnd: 0.5 },
  seed: 1,
});

test('executor: a run streams every progress report before its outcome resolves', async () => {
  const ex = new PiscinaExecutor({ workers: 1, filename: fixture('fake_trainer') });
  try {
    const seen: TrialProgress[] = [];
    const out = await ex.start(job({ steps: 20, evalInterval: 5 }), { onProgress: (p) => seen.push(p) }).outcome;
    assert.equal(out.kind, 'ok');
    assert.deepEqual(seen.map((p) => p.step), [5, 10, 15, 20]);
    assert.ok(out.kind === 'ok' && Math.abs(out.result.valAccuracy! - seen[3]!.valAccuracy) < 1e-12);
  } finally {
    await ex.close();
  }
});

test('executor: stop() ends the run early with outcome "stopped"', async () => {
  const ex = new PiscinaExecutor({ workers: 1, filename: fixture('fake_trainer') });
  try {
    const run = ex.start(job({ steps: 400, evalInterval: 5, delayMs: 2 }), { onProgress: (p) => p.step === 10 && run.stop() });
    const out = await run.outcome;
    assert.equal(out.kind, 'stopped');
    assert.ok(out.kind === 'stopped' && out.result.steps < 400, 'stopped well before the end');
  } finally {
    await ex.close();
  }
});

test('executor: the dataset is loaded once and shared with workers, not copied', async () => {
  let loads = 0;
  const probe = new SharedArrayBuffer(4);
  const ex = new PiscinaExecutor({ workers: 2, filename: fixture('fake_trainer'), loadDataset: () => (loads++, { probe }) });
  try {
    const outs = await Promise.all([1, 2, 3, 4].map((i) => ex.start(job({ steps: 5 }, i)).outcome));
    assert.deepEqual(outs.map((o) => o.kind), ['ok', 'ok', 'ok', 'ok']);
    assert.equal(loads, 1, 'one load for one scenario');
    assert.equal(new Int32Array(probe)[0], 4, 'each worker incremented the main thread buffer');
  } finally {
    await ex.close();
  }
});

for (const [name, expected, opts] of [
  ['throws', /trial threw: fixture trainer exploded/, {}],
  ['exits', /worker died: .*exited.*7/i, {}],
  ['oom', /out of memory \(trialMemoryMb = 32\)/, { memoryMb: 32 }],
] as const) {
  test(`executor: a worker that ${name} fails its trial with the reason, and the pool runs the next trial`, async () => {
    const ex = new PiscinaExecutor({ workers: 1, filename: fixture(name), ...opts });
    try {
      const out = await ex.start(job()).outcome;
      assert.equal(out.kind, 'failed');
      assert.match(out.kind === 'failed' ? out.reason : '', expected);
    } finally {
      await ex.close();
    }
    // The pool replaces a dead worker: same kind of pool, next task runs fine.
    const ok = new PiscinaExecutor({ workers: 1, filename: fixture('fake_trainer'), ...opts });
    try {
      assert.equal((await ok.start(job({ steps: 5 })).outcome).kind, 'ok');
    } finally {
      await ok.close();
    }
  });
}

test('executor: the pool survives a dying worker and runs the next task on a fresh one', async () => {
  const ex = new PiscinaExecutor({ workers: 1, filename: fixture('exits') });
  try {
    const a = await ex.start(job()).outcome;
    const b = await ex.start(job()).outcome;
    assert.equal(a.kind, 'failed');
    assert.equal(b.kind, 'failed', 'second task ran (and died) on a replacement worker instead of hanging');
  } finally {
    await ex.close();
  }
});

test('executor: a run past its time limit is killed and failed', async () => {
  const ex = new PiscinaExecutor({ workers: 1, filename: fixture('fake_trainer') });
  try {
    const out = await ex.start(job({ steps: 10_000, delayMs: 5 }), { timeoutMs: 150 }).outcome;
    assert.equal(out.kind, 'failed');
    assert.match(out.kind === 'failed' ? out.reason : '', /timed out after 0.15 s/);
  } finally {
    await ex.close();
  }
});

test('executor: aborting the caller signal cancels (not fails) the run', async () => {
  const ex = new PiscinaExecutor({ workers: 1, filename: fixture('fake_trainer') });
  try {
    const ac = new AbortController();
    const run = ex.start(job({ steps: 10_000, delayMs: 5 }), { signal: ac.signal, onProgress: () => ac.abort() });
    assert.deepEqual(await run.outcome, { kind: 'cancelled' });
  } finally {
    await ex.close();
  }
});

test('executor: a NaN result is passed through for the runner to judge', async () => {
  const ex = new PiscinaExecutor({ workers: 1, filename: fixture('nan') });
  try {
    const out = await ex.start(job()).outcome;
    assert.ok(out.kind === 'ok' && Number.isNaN(out.result.valAccuracy));
  } finally {
    await ex.close();
  }
});

test('executor: bad pool options name the option', () => {
  assert.throws(() => new PiscinaExecutor({ workers: 0 }), /workers: must be a positive integer/);
  assert.throws(() => new PiscinaExecutor({ memoryMb: 1 }), /trialMemoryMb: must be a number >= 16/);
});

test('executor: a run the trainer reports as diverged is failed with the trainer reason', async () => {
  const ex = new PiscinaExecutor({ workers: 1, filename: fixture('nan') });
  try {
    const out = await ex.start(job({ diverge: true })).outcome;
    assert.equal(out.kind, 'failed');
    assert.equal(out.kind === 'failed' ? out.reason : '', 'diverged: loss became NaN at step 3');
  } finally {
    await ex.close();
  }
});
