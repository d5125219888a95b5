// Optimizers by name (Vizier-style factory).
import { ConfigError } from '../errors.js';
import { BayesianOptimizer } from './bayesian.js';
import { RandomOptimizer } from './random.js';
import type { BaseOptimizer } from './base.js';
import type { OptimizerKind, OptimizerOptions } from './types.js';

const FACTORIES: Record<OptimizerKind, (o: OptimizerOptions) => BaseOptimizer> = {
  gp: (o) => new BayesianOptimizer(o),
  random: (o) => new RandomOptimizer(o),
};

export const optimizerNames = Object.keys(FACTORIES) as OptimizerKind[];

/** An in-process optimizer; see ThreadedOptimizer (threaded.ts) for the same optimizer in a worker thread. */
export function createOptimizer(name: OptimizerKind, options: OptimizerOptions): BaseOptimizer {
  const f = FACTORIES[name];
  if (!f) throw new ConfigError('optimizer', `unknown optimizer ${JSON.stringify(name)}`, `use one of ${optimizerNames.join(', ')}`);
  return f(options);
}
