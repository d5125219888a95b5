// `renorm-tune run <config> --redis ...`: the coordinator's side of `run`; queue workers (`renorm-tune worker`) train the trials.
import { coordinateStudy } from '../distributed/coordinator.js';
import { Presence } from '../distributed/presence.js';
import { CLOSE_GRACE_MS, TrialQueue } from '../distributed/queue.js';
import { checkRedis, parseRedisRef, type RedisRef } from '../distributed/redis.js';
import type { StudyConfig } from '../study/config.js';
import type { RunnerEvent, RunStudyResult } from '../study/runner.js';
import type { StudyService } from '../study/service.js';
import { noRetry } from './exit_status.js';
import { numberFlag } from './worker.js';

export interface QueueFlags {
  redis?: string;
  redisPrefix?: string;
  queueDepth?: string;
}

export interface OpenedQueue {
  redis: RedisRef;
  /** The flags to repeat in a "resume:" hint. */
  flags: string;
  coordinate(config: StudyConfig, o: { service: StudyService; signal: AbortSignal; onEvent: (e: RunnerEvent) => void; log: (line: string) => void }): Promise<RunStudyResult>;
  /** False when the queue's connection would not close (Redis away or just back), said through `log`. */
  close(log?: (line: string) => void): Promise<boolean>;
}

/**
 * Checks the flags (refused: EXIT_NO_RETRY) and reaches Redis (out of reach: 1, a restart may get past it) before the
 * database is opened, so a bad URL leaves nothing written anywhere.
 */
export async function openQueue(o: QueueFlags): Promise<OpenedQueue> {
  const { redis, depth } = noRetry(() => ({
    redis: parseRedisRef(o.redis, o.redisPrefix),
    depth: o.queueDepth === undefined ? undefined : numberFlag(o.queueDepth, '--queue-depth', 1, 100_000, true),
  }));
  await checkRedis(redis);
  const queue = new TrialQueue(redis);
  const presence = new Presence(redis);
  const flags = ` --redis ${redis.where}${o.redisPrefix ? ` --redis-prefix ${redis.prefix}` : ''}`;
  return {
    redis,
    flags,
    // A worker without this --redis-prefix would watch another queue, find no coordinator and leave.
    coordinate: (config, c) => coordinateStudy(config, { ...c, queue, presence, workerFlags: flags, ...(depth !== undefined ? { depth } : {}) }),
    close: async (log) => {
      const closed = await queue.close();
      await presence.close();
      if (!closed) log?.(`[queue] the connection to ${redis.where} did not close within ${CLOSE_GRACE_MS / 1000} s (Redis away or just back); leaving without it: the study's outcome is in the database`);
      return closed;
    },
  };
}
