// What a queue worker keeps between jobs: a study's data is loaded once, and a load that failed for a passing reason is tried again.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { THIS_BUILD } from '../../src/distributed/compat.js';
import { Presence } from '../../src/distributed/presence.js';
import { QUEUE_NAME } from '../../src/distributed/queue.js';
import { parseRedisRef } from '../../src/distributed/redis.js';
import { runQueueWorker } from '../../src/distributed/worker.js';
import { validateStudyConfig } from '../../src/study/config.js';
import { createExecutor } from '../../src/study/executor/choose.js';
import { createStudyService } from '../../src/study/service/defaults.js';
import { MemoryStorage } from '../../src/study/storage/index.js';
import { deletePrefix, REDIS_URL, redisSkip, until } from './helpers.js';

const skip = await redisSkip();
const fakeTrainer = fileURLToPath(new URL('../fixtures/workers/fake_trainer.js', import.meta.url));
const prefix = `rt-test-prepare-${process.pid}`;
after(async () => {
  if (!skip) await deletePrefix(prefix);
});

test('worker: a dataset load that failed for a passing reason fails only that job; the next job loads again and trains', { skip }, async () => {
  const service = createStudyService(new MemoryStorage());
  const study = await service.createStudy(validateStudyConfig({ name: 'prepare-again', scenario: { steps: 20 }, budget: { trials: 4 }, trialMemoryMb: 512 }));
  await service.setStudyState(study.id, 'RUNNING');
  const [first, second] = await service.listTrials(study.id, { states: ['WAITING'] });
  const [third] = await service.ask(study.id, 1);
  const redis = parseRedisRef(REDIS_URL, prefix);
  const presence = new Presence(redis);
  const executor = createExecutor({ isolation: 'thread', concurrency: 1, trialWorker: fakeTrainer });
  const queue = new Queue(QUEUE_NAME, { connection: { url: REDIS_URL }, prefix });
  const stop = new AbortController();
  let loads = 0;
  const lines: string[] = [];
  try {
    for (const t of [first!, second!, third!]) {
      await queue.add('trial', { studyId: study.id, trialId: t.id, round: 0, ...THIS_BUILD }, { jobId: `p-${t.id}`, removeOnComplete: true, removeOnFail: true });
    }
    const worker = runQueueWorker({
      service, dbWhere: 'memory', redis, presence, executor, idleMs: 0, signal: stop.signal, log: (l) => lines.push(l),
      prepare: async () => {
        if (++loads === 1) throw Object.assign(new Error('EMFILE: too many open files'), { code: 'EMFILE' });
      },
    });
    await until('the second and third trials trained', async () => {
      const ts = await Promise.all([second!.id, third!.id].map((id) => service.getTrial(study.id, id)));
      return ts.every((t) => t.state === 'COMPLETE');
    }, 30_000);
    assert.equal(loads, 2, 'loaded again after the failure, and kept after that');
    assert.equal((await service.getTrial(study.id, first!.id)).state, 'WAITING', 'the failed job left its trial for the coordinator to enqueue again');
    // The failed job is said, not lost without a word (BullMQ tells no one).
    assert.equal(lines.filter((l) => l === `[worker] job p-${first!.id} (trial id ${first!.id} of study ${study.id}) failed here: EMFILE: too many open files; unless its result was recorded, the trial goes back to the queue (at once if it was handed back, else when its lease expires)`).length, 1, lines.join('\n'));
    stop.abort();
    const res = await worker;
    assert.equal(res.reason, 'signal', lines.join('\n'));
    assert.equal(res.finished, 2);
    assert.equal(lines.filter((l) => /study 'prepare-again' sets trialMemoryMb = 512: queue workers do not limit a trial's memory/.test(l)).length, 1, 'said once, not per trial');
  } finally {
    stop.abort();
    await queue.close();
    await executor.close();
    await presence.close();
  }
});

test('worker: a signal while it announces itself ends it (it closed, then waited for a close that had been and gone)', { skip, timeout: 30_000 }, async () => {
  const service = createStudyService(new MemoryStorage());
  const redis = parseRedisRef(REDIS_URL, prefix);
  const real = new Presence(redis);
  const stop = new AbortController();
  const presence = Object.assign(Object.create(real) as Presence, {
    announce: async (...args: Parameters<Presence['announce']>) => {
      stop.abort(); // SIGTERM, as systemd sends it while the worker starts
      await new Promise((r) => setTimeout(r, 200));
      return real.announce(...args);
    },
  });
  const executor = createExecutor({ isolation: 'thread', concurrency: 1, trialWorker: fakeTrainer });
  try {
    const res = await Promise.race([
      runQueueWorker({ service, dbWhere: 'memory', redis, presence, executor, idleMs: 0, signal: stop.signal, log: () => undefined }),
      new Promise<'hung'>((r) => setTimeout(() => r('hung'), 15_000)),
    ]);
    assert.notEqual(res, 'hung', 'the worker never left');
    assert.equal((res as { reason: string }).reason, 'signal');
  } finally {
    await executor.close();
    await real.close();
  }
});
