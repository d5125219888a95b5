// Trial throughput of the queue with 1, 2, 4... worker processes, on a trainer of known duration that uses no CPU.
import { fileURLToPath } from 'node:url';
import { validateStudyConfig } from '../../study/config.js';
import { Cluster, durationsMs, mean } from './cluster.js';

const SLEEP_TRAINER = fileURLToPath(new URL('./sleep_trainer.js', import.meta.url));

export interface ScalingPoint {
  workers: number;
  seconds: number;
  trialsPerSecond: number;
  /** Throughput over the ideal (workers / trial duration): 1 means the queue costs nothing. */
  efficiency: number;
  /** Mean claim-to-finish time of a trial, ms (the sleep plus the reports through the service). */
  trialMs: number;
}

/**
 * The same study (`trials` trials, random optimizer, no pruner, no final validation) coordinated on a fresh
 * database and Redis prefix for each worker count; the clock runs from the coordinator's start to COMPLETE.
 */
export async function benchScaling(o: { redis: string; workers: number[]; trials: number; trialMs: number; log: (line: string) => void }): Promise<ScalingPoint[]> {
  const out: ScalingPoint[] = [];
  for (const workers of o.workers) {
    const cluster = new Cluster(o.redis);
    try {
      await cluster.startWorkers(workers, ['--trial-worker', SLEEP_TRAINER], { RENORM_BENCH_TRIAL_MS: String(o.trialMs) });
      const config = validateStudyConfig({
        name: `scaling-${workers}`,
        scenario: { steps: 5, evalInterval: 1 },
        budget: { trials: o.trials },
        optimizer: { type: 'random' },
        finalValidation: { seeds: 0, race: { candidates: 1 } }, // no evidence phase: only the budget's trials are timed
      });
      const run = await cluster.coordinate(config);
      const trialsPerSecond = o.trials / run.seconds;
      const point = { workers, seconds: run.seconds, trialsPerSecond, efficiency: trialsPerSecond / (workers / (o.trialMs / 1000)), trialMs: mean(durationsMs(run.trials)) };
      out.push(point);
      o.log(`  ${workers} worker${workers > 1 ? 's' : ' '}: ${o.trials} trials of ${o.trialMs} ms in ${run.seconds.toFixed(2)} s = ${trialsPerSecond.toFixed(2)} trials/s, ${(100 * point.efficiency).toFixed(0)}% of ideal (claim to finish ${point.trialMs.toFixed(0)} ms per trial)`);
    } finally {
      await cluster.close();
    }
  }
  return out;
}
