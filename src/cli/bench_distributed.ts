// `renorm-tune bench distributed`: queue scaling over worker processes, the queue's per-trial cost against the local pool, ask+tell on SQLite vs PostgreSQL.
import { availableParallelism, loadavg } from 'node:os';
import type { Command } from 'commander';
import { benchAskTellStores } from '../bench/distributed/ask_latency.js';
import { benchOverhead } from '../bench/distributed/overhead.js';
import { benchScaling } from '../bench/distributed/scaling.js';
import { checkRedis, parseRedisRef } from '../distributed/redis.js';
import { list, positiveInt } from './options.js';

interface Opts {
  redis: string;
  pg: string | false;
  config: string;
  workers: number[];
  trials: number;
  trialMs: number;
  quickTrials: number;
  rounds: number;
  clients: number[];
  pairs: number;
  skipScaling?: boolean;
  skipOverhead?: boolean;
  skipLatency?: boolean;
}

export async function benchDistributed(o: Opts): Promise<void> {
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const workers = o.workers;
  const clients = o.clients;
  log(`machine: ${availableParallelism()} cores, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} (shared machines make absolute numbers noisy; compare the ratios)`);
  if (!o.skipScaling || !o.skipOverhead) await checkRedis(parseRedisRef(o.redis, undefined));
  if (!o.skipScaling) {
    log(`queue scaling: a trainer that sleeps ${o.trialMs} ms per trial (no CPU, so ${Math.max(...workers)} processes on ${availableParallelism()} cores measure the queue, not the cores)`);
    const pts = await benchScaling({ redis: o.redis, workers, trials: o.trials, trialMs: o.trialMs, log });
    const one = pts[0]!;
    log(`throughput vs ${one.workers} worker: ${pts.map((p) => `${p.workers} -> ${(p.trialsPerSecond / one.trialsPerSecond).toFixed(2)}x (ideal ${(p.workers / one.workers).toFixed(0)}x)`).join(', ')}`);
  }
  if (!o.skipOverhead) {
    log(`queue overhead per trial against the local pool: ${o.config}'s scenario, ${o.quickTrials} trials per run, one slot, no pruner`);
    const r = await benchOverhead({ redis: o.redis, config: o.config, trials: o.quickTrials, rounds: o.rounds, log });
    const m = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    log(`gap between trials: local ${m(r.local.gapsMs).toFixed(0)} ms, queue ${m(r.queue.gapsMs).toFixed(0)} ms; the queue adds ${r.addedMs.toFixed(0)} ms per trial = ${(100 * r.addedFraction).toFixed(1)}% of a ${m([...r.local.trialMs, ...r.queue.trialMs]).toFixed(0)} ms trial (target < 5%)`);
    // The trial itself runs on the same pool either way: a trial-time ratio away from 1 is machine load, not the queue.
    log(`trial time (claim to finish) queue / local = ${(m(r.queue.trialMs) / m(r.local.trialMs)).toFixed(3)}; study time queue / local = ${(m(r.queue.seconds) / m(r.local.seconds)).toFixed(3)}`);
  }
  if (!o.skipLatency) {
    log(`ask+tell latency, in-process clients each with its own service and connection, one external study, random optimizer`);
    const { points, pgSkipped } = await benchAskTellStores({ pg: o.pg === false ? null : o.pg, clients, pairs: o.pairs, log });
    if (pgSkipped) log(`PostgreSQL: skipped (${pgSkipped})`);
    for (const c of clients) {
      for (const mode of ['servers', 'one server'] as const) {
        const at = (store: string) => points.find((p) => p.store === store && p.clients === c && p.mode === mode);
        const [s, f, p] = [at('sqlite'), at('sqlite-full'), at('postgres')];
        const who = c === 1 ? ' 1 client ' : `${String(c).padStart(2)} clients, ${mode === 'servers' ? 'a service each' : 'one service'}`;
        if (s && p) log(`  ${who}: PostgreSQL / SQLite = ${(p.p50 / s.p50).toFixed(2)}x at p50 (target < 2x), ${(p.p99 / s.p99).toFixed(2)}x at p99, throughput ${(p.pairsPerSecond / s.pairsPerSecond).toFixed(2)}x`);
        if (f && p) log(`  ${who}: PostgreSQL / SQLite with fsync on every commit (equal durability) = ${(p.p50 / f.p50).toFixed(2)}x at p50, ${(p.p99 / f.p99).toFixed(2)}x at p99`);
      }
    }
  }
  log(`load average after: ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
}

export function register(bench: Command): void {
  bench
    .command('distributed')
    .description('Queue throughput with 1/2/4 worker processes, its per-trial overhead against the local pool, ask+tell on SQLite vs PostgreSQL')
    .option('--redis <url>', 'Redis for the queue (the benchmark uses its own key prefix and deletes it)', 'redis://127.0.0.1:6379')
    .option('--pg <url>', 'PostgreSQL server; the benchmark creates and drops its own database there', process.env.RENORM_TUNE_TEST_PG || 'postgres://postgres@127.0.0.1:5432/test')
    .option('--no-pg', 'SQLite only')
    .option('--config <file>', 'study config whose scenario the overhead runs train', 'configs/quick.json')
    .option('--workers <list>', 'worker process counts for the scaling runs', list('--workers', positiveInt('--workers', 4)), [1,2,4])
    .option('--trials <n>', 'trials per scaling run (baselines included)', positiveInt('--trials', 16), 16)
    .option('--trial-ms <ms>', 'duration of one sleeping trial', positiveInt('--trial-ms', 500), 500)
    .option('--quick-trials <n>', 'real trials per overhead run (baselines included)', positiveInt('--quick-trials', 6), 6)
    .option('--rounds <n>', 'overhead runs per path (A-B-B-A order)', positiveInt('--rounds', 2), 2)
    .option('--clients <list>', 'concurrent ask+tell clients', list('--clients', positiveInt('--clients', 4)), [1,4,16])
    .option('--pairs <n>', 'timed ask+tell pairs per measurement (split across the clients)', positiveInt('--pairs', 320), 320)
    .option('--skip-scaling', 'no scaling runs')
    .option('--skip-overhead', 'no overhead runs')
    .option('--skip-latency', 'no ask+tell latency runs')
    .action(async (o: Opts) => benchDistributed(o));
}
