// One optimizer run on one test function: asks in batches, tells (noisy) values, and measures regret on the noise-free function.
import { Rng, mixSeed } from '../../gp/rng.js';
import { BayesianOptimizer } from '../../optimizer/bayesian.js';
import type { Optimizer, OptimizerOptions, Params } from '../../optimizer/types.js';
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

export async function runOnFunction(opt: Optimizer, fn: TestFunction, seed: number, evals: number, batch: number): Promise<RunResult> {
  const noise = noiseStream(fn, seed);
  const trace: number[] = [];
  let bestTrue = Infinity;
  let bestNoisy = Infinity;
  let bestNoisyParams: Params | null = null;
  const t0 = performance.now();
  while (trace.length < evals) {
    const asked = await opt.ask(Math.min(batch, evals - trace.length));
    for (const s of asked) {
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
