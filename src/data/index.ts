// Public names of the data package, re-exported from the package root.
export type { Dataset, DataSplit, DatasetSpec, IdxDatasetSpec } from './types.js';
export { loadDataset, attachDataset, checkValidationSize, splitTrainValidation, datasetKey, type TrainValidationSplit } from './dataset.js';
export { parseIdx, readIdxFile, type IdxArray } from './idx.js';
export { loadMnist, loadFashionMnist, loadIdxDataset, FASHION_TRAIN_PER_CLASS } from './sources.js';
export { createSampler, type BatchSampler, type SamplerSpec, type SamplerInput } from './samplers.js';
export { createRng, permutation, shuffleInPlace, type Rng } from './rng.js';
