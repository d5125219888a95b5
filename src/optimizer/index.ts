// Public names of the optimizer package, re-exported from the package root.
export { BayesianOptimizer } from './bayesian.js';
export { RandomOptimizer } from './random.js';
export { createOptimizer, optimizerNames } from './factory.js';
export { ThreadedOptimizer, OptimizerWorkerError, DEFAULT_OPTIMIZER_WORKER } from './threaded.js';
export type { ThreadedOptimizerOptions } from './threaded.js';
export { validateSpace, validateParam, EncodedSpace } from './space.js';
export type { SearchSpace, ParamSpec, FloatParam, IntParam, CategoricalParam } from './space.js';
export type { Optimizer, OptimizerKind, OptimizerOptions, Suggestion, GpSlice, Importance, Observation, Direction, Params, ParamValue, Recommendation, BatchStrategy } from './types.js';
