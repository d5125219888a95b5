// Public names of the optimizer package, re-exported from the package root.
export { BayesianOptimizer } from './bayesian.js';
export { RandomOptimizer } from './random.js';
export { createOptimizer, optimizerFromJSON, optimizerNames } from './factory.js';
export { validateSpace, validateParam, EncodedSpace } from './space.js';
export type { SearchSpace, ParamSpec, FloatParam, IntParam, CategoricalParam } from './space.js';
export type { Optimizer, OptimizerKind, OptimizerOptions, OptimizerState, Suggestion, GpSlice, Observation, Direction, Params, ParamValue } from './types.js';
export type { AcquisitionName } from '../gp/acquisition.js';
