// A trial-worker module that trains nothing: it takes $RENORM_BENCH_TRIAL_MS (default 500) and reports five times, so queue costs show on their own.
import { connectWorker, type TrialTask } from '../../study/executor/protocol.js';
import type { TrialResult } from '../../study/executor/types.js';

/**
 * A known duration that costs no CPU: with it, 4 worker processes on a 2-core machine measure the queue's
 * scaling rather than the cores'. The value is a fixed function of the seed so the optimizer has something to fit.
 */
export default async function sleepTrainer(task: TrialTask): Promise<TrialResult> {
  const io = connectWorker(task);
  const ms = Number(process.env.RENORM_BENCH_TRIAL_MS ?? 500);
  const value = 0.5 + ((task.job.seed % 1000) / 1000) * 0.4;
  const steps = 5;
  for (let step = 1; step <= steps && !io.shouldStop(); step++) {
    await new Promise((r) => setTimeout(r, ms / steps));
    io.progress({ step, totalSteps: steps, loss: 1 - value, valAccuracy: value, valAccuracyTrainMode: value, rmax: 1, rmin: 1, dmax: 0, clip: [], imagesPerSecond: 0, elapsedMs: 0 });
  }
  io.finish();
  return { status: 'ok', valAccuracy: value, valAccuracyTrainMode: value, loss: 1 - value, steps, backend: 'sleep', imagesPerSecond: 0, elapsedMs: ms };
}
