// `renorm-tune bench service`: pool throughput (2 vs 1 workers), ask/tell latency over HTTP, report cost against study size, and a large study served.
import { availableParallelism, loadavg } from 'node:os';
import type { Command } from 'commander';
import { positiveInt } from './options.js';
import { benchAskTell, benchThroughput } from '../bench/service.js';
import { benchReport } from '../bench/report.js';
import { benchLargeStudy } from '../bench/large_study.js';

interface Opts {
  config: string;
  trials: number;
  steps: number;
  rounds: number;
  askRounds: number;
  skipThroughput?: boolean;
  skipLatency?: boolean;
  skipReport?: boolean;
  reportTrials: number;
  largeTrials: number;
  largeCurvePoints: number;
  largeDb?: string;
  copyTo?: string;
  skipLarge?: boolean;
}

export async function benchService(o: Opts): Promise<void> {
  const log = (line: string) => process.stdout.write(`${line}\n`);
  log(`machine: ${availableParallelism()} cores, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} (shared machines make absolute numbers noisy; compare the ratios)`);
  if (!o.skipThroughput) {
    const t = await benchThroughput({ config: o.config, trials: o.trials, steps: o.steps, rounds: o.rounds, log });
    log(`throughput: 2 workers / 1 worker = ${t.ratio.toFixed(2)}x pooled, ${t.medianRoundRatio.toFixed(2)}x median of rounds (target >= 1.7x on 2 cores); CPU per trial 2 workers / 1 worker = ${t.cpuCostRatio.toFixed(2)}`);
  }
  if (!o.skipLatency) {
    const l = await benchAskTell({ config: o.config, rounds: o.askRounds, log });
    log(`ask/tell over HTTP: median ${l.http.median.toFixed(2)} ms (target < 10 ms)`);
  }
  if (!o.skipReport) {
    const r = await benchReport({ small: 10, large: o.reportTrials, reports: 20, rounds: 300, log });
    log(`report cost vs study size: ${r.large.trials} trials / ${r.small.trials} trials = ${r.ratio.toFixed(2)}x at the median (target: about 1, independent of size)`);
  }
  if (!o.skipLarge) {
    const big = await benchLargeStudy({ trials: o.largeTrials, curvePoints: o.largeCurvePoints, ...(o.largeDb ? { db: o.largeDb } : {}), ...(o.copyTo ? { copyTo: o.copyTo } : {}), log });
    const worst = Math.max(...big.steps.map((s) => s.health.maxMs));
    const idle = big.steps.find((s) => s.what === 'idle')!.health.p99Ms;
    log(`large study (${big.trials} trials, ${big.store}): the longest /api/health wait during its asks and view fetches ${worst.toFixed(0)} ms, idle p99 ${idle.toFixed(0)} ms (target: well under 300 ms)`);
  }
  log(`load average after: ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
}

export function register(bench: Command): void {
  bench
    .command('service')
    .description('Trial throughput with 2 workers vs 1, and ask/tell round-trip latency over HTTP')
    .option('--config <file>', 'study config whose scenario the trials use', 'configs/quick.json')
    .option('--trials <n>', 'trials per timed batch', positiveInt('--trials', 4), 4)
    .option('--steps <n>', 'steps per trial (quick.json trials are 300)', positiveInt('--steps', 300), 300)
    .option('--rounds <n>', 'alternating 1-worker/2-worker rounds', positiveInt('--rounds', 2), 2)
    .option('--ask-rounds <n>', 'ask/tell round trips', positiveInt('--ask-rounds', 300), 300)
    .option('--skip-throughput', 'only the latency benchmark')
    .option('--skip-latency', 'skip the ask/tell latency benchmark')
    .option('--skip-report', 'skip the report-cost-vs-study-size benchmark')
    .option('--report-trials <n>', 'finished trials in the large study of the report benchmark', positiveInt('--report-trials', 2000), 2000)
    .option('--skip-large', 'skip the large-study benchmark (server responsiveness while a big study is viewed and asked)')
    .option('--large-trials <n>', 'finished trials in the large study', positiveInt('--large-trials', 100_000), 100_000)
    .option('--large-curve-points <n>', 'reports per trial in the large study; from 8 on, each with the metrics the built-in trainer reports (a trainer reporting every 50 of 3,000 steps sends 60)', positiveInt('--large-curve-points', 4), 4)
    .option('--large-db <url>', 'build the large study in this PostgreSQL database (a postgres:// URL, as a superuser: the bench copies trials with the triggers off) instead of a temporary SQLite file')
    .option('--copy-to <ref>', 'also time `renorm-tune copy` of the large study into this database (a SQLite file or postgres:// URL); the copy is deleted')
    .action(async (o: Opts) => benchService(o));
}

