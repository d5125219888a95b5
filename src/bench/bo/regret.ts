// One optimizer run on one test function: asks in batches, tells (noisy) values, and measures regret on the noise-free function.
import { Rng, mixSeed } from '../../gp/rng.js';
import { BayesianOptimizer } from '../../optimizer/bayesian.js';
import type { Optimizer, OptimizerOptions, Params, Suggestion } from '../../optimizer/types.js';
import type { TestFunction } from './test_functions.js';

export interface RunResult {
  /** Best-so-far regret of the noise-free values of the evaluated points, after each evaluation. */
  trace: number[];
  /**
   * The run's answer: the noise-free regret of what the optimizer would report. Deterministic functions: its best
   * observed point (= the last trace entry). Noisy functions: its `recommend()` (the GP's lowest posterior mean;
   * random search's best noisy value), since the best noisy value is biased (the winner's curse).
   */
  final: number;
  /** Noisy functions only: the noise-free regret of the best noisy observation, for comparison with `final`. */
  bestObservedFinal?: number;
  seconds: number;
}

/** The GP as every bench section runs it on a test function: minimizing, seeded by the run's seed, defaults unless `options` (an ablation) says otherwise. */
export function benchGp(fn: TestFunction, seed: number, options: Partial<OptimizerOptions> = {}): BayesianOptimizer {
  return new BayesianOptimizer({ space: fn.space, direction: 'minimize', seed, ...options });
}

/** Stable per-function stream of the noise, so every optimizer sees the same noise for the same seed and evaluation order. */
function noiseStream(fn: TestFunction, seed: number): Rng {
  let h = 0;
  for (const c of fn.name) h = (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0;
  return new Rng(seed, mixSeed(0x7015e, h));
}

/**
 * How a run with `batch` > 1 asks. 'batches': ask `batch`, tell them all, ask again (the "asking 4 at a
 * time"). 'asynchronous': keep `batch` trials in flight, telling the oldest and asking one more each time, so every
 * ask after the first has `batch` - 1 pending trials: how the runner and the coordinator ask as workers free up.
 */
export type Pacing = 'batches' | 'asynchronous';

export async function runOnFunction(opt: Optimizer, fn: TestFunction, seed: number, evals: number, batch: number, pacing: Pacing = 'batches'): Promise<RunResult> {
  const noise = noiseStream(fn, seed);
  const trace: number[] = [];
  let bestTrue = Infinity;
  let bestNoisy = Infinity;
  let bestNoisyParams: Params | null = null;
  const t0 = performance.now();
  const inFlight: Suggestion[] = [];
  let asked = 0;
  while (trace.length < evals) {
    const room = Math.min(batch - inFlight.length, evals - asked);
    if (room > 0 && (inFlight.length === 0 || pacing === 'asynchronous')) {
      const got = await opt.ask(room);
      inFlight.push(...got);
      asked += got.length;
    }
    const s = inFlight.shift()!;
    const v = fn.f(s.params);
    const observed = fn.noiseSd ? v + fn.noiseSd * noise.normal() : v;
    await opt.tell(s.id, observed);
    bestTrue = Math.min(bestTrue, v);
    if (observed < bestNoisy) {
      bestNoisy = observed;
      bestNoisyParams = s.params;
    }
    trace.push(bestTrue - fn.optimum);
  }
  let final = trace[trace.length - 1]!;
  let bestObservedFinal: number | undefined;
  if (fn.noiseSd) {
    const rec = await opt.recommend();
    final = fn.f(rec!.params) - fn.optimum;
    bestObservedFinal = fn.f(bestNoisyParams!) - fn.optimum;
  }
  const seconds = (performance.now() - t0) / 1000;
  return { trace, final, ...(bestObservedFinal !== undefined ? { bestObservedFinal } : {}), seconds };
}
