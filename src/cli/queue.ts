// `renorm-tune queue`: who is on a queue right now (coordinators, workers and their slots, jobs), from any machine that reaches its Redis.
import type { Command } from 'commander';
import { checkRedis, DEFAULT_PREFIX, parseRedisRef } from '../distributed/redis.js';
import { queueStatus, queueStatusText } from '../distributed/status.js';

interface QueueOpts {
  redis?: string;
  redisPrefix?: string;
  json?: boolean;
}

export async function queueCommand(o: QueueOpts): Promise<string> {
  const ref = parseRedisRef(o.redis, o.redisPrefix);
  await checkRedis(ref);
  const status = await queueStatus(ref);
  return o.json ? `${JSON.stringify(status, null, 2)}\n` : queueStatusText(status);
}

export function register(program: Command): void {
  program
    .command('queue')
    .description('Show who is on a queue now: coordinators and their studies, workers and their slots, jobs waiting and taken')
    .option('--redis <url>', 'the queue\'s Redis, as given to `run` and `worker` (redis:// or rediss://)')
    .option('--redis-prefix <prefix>', `the key prefix, as given to \`run\` and \`worker\` (default ${DEFAULT_PREFIX})`)
    .option('--json', 'print the status as JSON')
    .action(async (o: QueueOpts) => {
      process.stdout.write(await queueCommand(o));
    });
}
