// Public names of the train package, re-exported from the package root.
export { train } from './trainer.js';
export { seedModelWeights } from './seed.js';
export { validateTrainConfig, loadTrainConfig, type TrainConfig } from './config.js';
export { validateScenario, SCENARIO_FIELDS, SORTED_RUN_STEPS, MAX_BATCH_SIZE, MAX_STEPS, type Scenario, type OptimizerSpec } from './scenario.js';
export type { TrainRequest, TrainProgress, TrainResult, TrainStatus, ClipReport } from './types.js';
