// Public names of the engine package, re-exported from the package root.
export * as tf from '@tensorflow/tfjs';
export { initBackend, wasmSimdActive, BACKEND_NAMES, type ActiveBackend, type BackendName } from './backend.js';
export type { Device } from './native_device.js';
export { BatchRenormalization, normalizeClipping, type BatchRenormalizationArgs } from './batch_renorm.js';
export { buildModel, renormLayers, setModelClipping, type InputShape, type RenormOptions } from './models.js';
export { validateModelSpec, type ModelSpec } from '../config/model_spec.js';
export {
  createTrainStep,
  makeOptimizer,
  type TrainStep,
  type TrainStepOptions,
  type OptimizerName,
} from './train_step.js';
