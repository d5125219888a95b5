// Optimizers by name (Vizier-style factory), and revival from a saved state.
import { ConfigError } from '../errors.js';
import { BayesianOptimizer } from './bayesian.js';
import { RandomOptimizer } from './random.js';
import type { Optimizer, OptimizerKind, OptimizerOptions } from './types.js';

const FACTORIES: Record<OptimizerKind, { create(o: OptimizerOptions): Optimizer; fromJSON(json: unknown): Optimizer }> = {
  gp: { create: (o) => new BayesianOptimizer(o), fromJSON: (j) => BayesianOptimizer.fromJSON(j) },
  random: { create: (o) => new RandomOptimizer(o), fromJSON: (j) => RandomOptimizer.fromJSON(j) },
};

export const optimizerNames = Object.keys(FACTORIES) as OptimizerKind[];

export function createOptimizer(name: OptimizerKind, options: OptimizerOptions): Optimizer {
  const f = FACTORIES[name];
  if (!f) throw new ConfigError('optimizer', `unknown optimizer ${JSON.stringify(name)}`, `use one of ${optimizerNames.join(', ')}`);
  return f.create(options);
}

/** Revives any optimizer from `toJSON()` output, dispatching on its `name`. */
export function optimizerFromJSON(json: unknown): Optimizer {
  const name = (json as { name?: unknown } | null)?.name;
  const f = typeof name === 'string' ? FACTORIES[name as OptimizerKind] : undefined;
  if (!f) throw new ConfigError('state.name', `unknown optimizer ${JSON.stringify(name)}`, `use one of ${optimizerNames.join(', ')}`);
  return f.fromJSON(json);
}
