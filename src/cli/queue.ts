// `renorm-tune queue`: who is on a queue right now (coordinators, workers and their slots, jobs), from any machine that reaches its Redis.
import type { Command } from 'commander';
import { checkRedis, DEFAULT_PREFIX, parseRedisRef } from '../distributed/redis.js';
import { queueStatus, queueStatusText } from '../distributed/status.js';
import { openStorage, storageRefFrom } from '../study/storage/index.js';

interface QueueOpts {
  redis?: string;
  redisPrefix?: string;
  db?: string;
  json?: boolean;
}

export async function queueCommand(o: QueueOpts): Promise<string> {
  const ref = parseRedisRef(o.redis, o.redisPrefix);
  const db = o.db === undefined ? undefined : storageRefFrom(o.db);
  await checkRedis(ref);
  // Read only: an existing database of this build, never created or migrated from here.
  const storage = db === undefined ? undefined : await openStorage(db, { mustExist: true, migrate: false });
  try {
    const status = await queueStatus(ref, storage);
    return o.json ? `${JSON.stringify(status, null, 2)}\n` : queueStatusText(status);
  } finally {
    await storage?.close();
  }
}

export function register(program: Command): void {
  program
    .command('queue')
    .description('Show who is on a queue now: coordinators and their studies, workers and their slots, jobs waiting and taken')
    .option('--redis <url>', 'the queue\'s Redis, as given to `run` and `worker` (redis:// or rediss://)')
    .option('--redis-prefix <prefix>', `the key prefix, as given to \`run\` and \`worker\` (default ${DEFAULT_PREFIX})`)
    .option('--db <ref>', 'the database the coordinators\' studies live in: also show the trials each worker trains, and those held by no live worker')
    .option('--json', 'print the status as JSON')
    .action(async (o: QueueOpts) => {
      process.stdout.write(await queueCommand(o));
    });
}
