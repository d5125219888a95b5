// Ctrl-C on a coordinator: the study is STOPPED in the store at once, even while a pass (an ask of the GP) is under way,
// and what that pass asked is not queued, so no worker starts a trial of a study that is stopping.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { coordinateStudy } from '../../src/distributed/coordinator.js';
import { Presence } from '../../src/distributed/presence.js';
import { TrialQueue } from '../../src/distributed/queue.js';
import { parseRedisRef } from '../../src/distributed/redis.js';
import { validateStudyConfig } from '../../src/study/config.js';
import type { StudyService } from '../../src/study/service.js';
import { createStudyService } from '../../src/study/service/defaults.js';
import { MemoryStorage } from '../../src/study/storage/index.js';
import { deletePrefix, REDIS_URL, redisSkip, until } from './helpers.js';

const skip = await redisSkip();
const prefix = `rt-test-coordstop-${process.pid}`;
after(async () => {
  if (!skip) await deletePrefix(prefix);
});

/**
 * `service` whose asks answer only after `release` (an ask of a large study takes seconds), saying when one has asked:
 * the study was RUNNING when the ask looked, so its trials are made, and the answer comes after the Ctrl-C.
 */
function slowAsks(service: StudyService): { service: StudyService; asking: Promise<void>; release(): void } {
  let started!: () => void;
  let release!: () => void;
  const asking = new Promise<void>((r) => (started = r));
  const gate = new Promise<void>((r) => (release = r));
  const wrapped = new Proxy(service, {
    get(target, key, receiver) {
      if (key !== 'ask') return Reflect.get(target, key, receiver) as unknown;
      return async (...args: Parameters<StudyService['ask']>) => {
        const asked = await target.ask(...args);
        started();
        await gate;
        return asked;
      };
    },
  });
  return { service: wrapped, asking, release };
}

test('coordinator: Ctrl-C during an ask marks the study STOPPED before the ask ends, and queues nothing of that pass', { skip }, async () => {
  const inner = createStudyService(new MemoryStorage());
  const { service, asking, release } = slowAsks(inner);
  const config = validateStudyConfig({ name: 'coord-stop', scenario: { steps: 20 }, budget: { trials: 12 } });
  const redis = parseRedisRef(REDIS_URL, prefix);
  const queue = new TrialQueue(redis);
  const presence = new Presence(redis);
  const stop = new AbortController();
  try {
    const run = coordinateStudy(config, { service, queue, presence, depth: 8, signal: stop.signal, pollMs: 50 });
    await asking;
    const sid = (await inner.listStudies()).find((s) => s.name === 'coord-stop')!.id;
    assert.equal((await inner.resolve(sid)).state, 'RUNNING');
    stop.abort();
    await until('the study STOPPED while its ask still waits', async () => (await inner.resolve(sid)).state === 'STOPPED', 5_000, 10);
    release();
    const res = await run;
    assert.equal(res.state, 'STOPPED');
    assert.equal((await inner.resolve(sid)).state, 'STOPPED');
    assert.deepEqual(await queue.jobCounts(), { waiting: 0, active: 0, delayed: 0 }, 'nothing queued for workers after the Ctrl-C');
    assert.ok((await inner.listTrials(sid)).some((t) => t.state === 'WAITING'), 'the trials asked stay WAITING for the resume');
  } finally {
    release();
    await queue.close();
    await presence.close();
  }
});
