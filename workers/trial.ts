// Piscina worker: trains one trial with the shared dataset, streaming progress and honouring stop requests.
import { attachDataset } from '../src/data/index.js';
import { train } from '../src/train/index.js';
import { validateScenario } from '../src/train/scenario.js';
import { connectWorker, type TrialTask } from '../src/study/executor/protocol.js';
import type { TrialResult } from '../src/study/executor/types.js';

/**
 * The worker thread keeps its module state between tasks, so the trainer's backend initialisation (WASM
 * compile, kernel registration) happens once per thread, not once per trial.
 */
export default async function trialWorker(task: TrialTask): Promise<TrialResult> {
  const io = connectWorker(task);
  const { job } = task;
  try {
    const result = await train({
      // The job arrives as plain JSON; checking it gives the trainer a typed Scenario (microseconds, no TF.js).
      scenario: validateScenario(job.scenario, 'scenario'),
      schedule: job.schedule,
      ...(job.renormMomentum !== undefined ? { renormMomentum: job.renormMomentum } : {}),
      seed: job.seed,
      ...(job.backend ? { backend: job.backend } : {}),
      ...(task.dataset ? { dataset: attachDataset(task.dataset) } : {}),
      evaluateOn: job.evaluateOn ?? 'validation',
      onProgress: io.progress,
      shouldStop: io.shouldStop,
    });
    // The curve is already streamed step by step; sending it again would only cost a copy.
    const { curve: _curve, ...rest } = result;
    return rest;
  } catch (err) {
    // The backend did not start: the machine's fault, not the trial's (its code would not survive the thread).
    if ((err as { code?: string }).code === 'BACKEND_UNAVAILABLE') io.unavailable((err as Error).message);
    throw err;
  } finally {
    io.finish();
  }
}
