// Loads a dataset once per process into shared memory, checks one received by a worker, and splits off validation.
import { ConfigError, DataError } from '../errors.js';
import { createRng, permutation } from './rng.js';
import { loadFashionMnist, loadIdxDataset, loadMnist } from './sources.js';
import type { DataSplit, Dataset, DatasetSpec } from './types.js';

const loaded = new Map<string, Promise<Dataset>>();

export function datasetKey(spec: DatasetSpec): string {
  return typeof spec === 'string' ? spec : JSON.stringify(['idx', spec.trainImages, spec.trainLabels, spec.testImages, spec.testLabels, spec.numClasses ?? null]);
}

/**
 * Main thread: reads and parses the dataset at most once per process (later calls share the same memory).
 * A failed load is forgotten so a fixed file can be retried.
 */
export function loadDataset(spec: DatasetSpec): Promise<Dataset> {
  const key = datasetKey(spec);
  let hit = loaded.get(key);
  if (!hit) {
    hit = Promise.resolve().then(() => (spec === 'mnist' ? loadMnist() : spec === 'fashion-mnist' ? loadFashionMnist() : loadIdxDataset(spec)));
    hit.catch(() => loaded.delete(key));
    loaded.set(key, hit);
  }
  return hit;
}

function checkSplit(split: DataSplit | undefined, which: string, pixels: number): void {
  if (!split || !(split.images instanceof Uint8Array) || !(split.labels instanceof Uint8Array)) {
    throw new DataError(`dataset.${which}`, 'missing images or labels (was the Dataset object posted whole?)');
  }
  if (!(split.images.buffer instanceof SharedArrayBuffer) || !(split.labels.buffer instanceof SharedArrayBuffer)) {
    throw new DataError(`dataset.${which}`, 'is not backed by a SharedArrayBuffer, so every worker would hold its own copy; load it with loadDataset');
  }
  if (split.images.length !== split.count * pixels || split.labels.length !== split.count) {
    throw new DataError(`dataset.${which}`, `sizes disagree: ${split.images.length} pixels and ${split.labels.length} labels for ${split.count} images of ${pixels} pixels`);
  }
}

/**
 * Worker side: a Dataset that arrived through postMessage/workerData is already usable (structured clone keeps
 * typed arrays on their SharedArrayBuffers); this checks that it really is shared and consistent, and returns it.
 */
export function attachDataset(received: unknown): Dataset {
  const ds = received as Dataset;
  if (!ds || typeof ds !== 'object' || !(ds.numClasses > 0)) throw new DataError('dataset', 'not a Dataset object');
  const pixels = ds.height * ds.width * ds.channels;
  checkSplit(ds.train, 'train', pixels);
  checkSplit(ds.test, 'test', pixels);
  return ds;
}

export interface TrainValidationSplit {
  /** Indices into `dataset.train` used for training (all of them minus validation, possibly capped by trainSubset). */
  train: Int32Array;
  /** Indices into `dataset.train` held out to score trials; the test split is kept for final reports. */
  validation: Int32Array;
}

/**
 * A config's validationSize against the dataset it names, checked where both are known before any trial runs: a
 * study whose every trial would fail on it is refused with the field, not run to the end of its budget.
 */
export function checkValidationSize(dataset: Dataset, validationSize: number, field: string): void {
  const n = dataset.train.count;
  if (validationSize >= n) {
    throw new ConfigError(field, `${validationSize} leaves no training images: ${dataset.name} has ${n} (its validation images are held out of these)`, `give at most ${n - 1}, e.g. ${Math.min(5000, Math.floor(n / 10))}`);
  }
}

/**
 * The validation set depends only on (validationSize, splitSeed), never on the trial seed, so every trial of a
 * study is scored on the same images. `trainSubset` keeps the first N of the remaining (shuffled) images.
 */
export function splitTrainValidation(dataset: Dataset, validationSize: number, splitSeed = 0, trainSubset?: number): TrainValidationSplit {
  const n = dataset.train.count;
  if (validationSize >= n) throw new DataError(dataset.name, `validationSize ${validationSize} leaves no training images out of ${n}`);
  const perm = permutation(n, createRng(splitSeed ^ 0x5eed));
  const validation = perm.slice(0, validationSize);
  let train = perm.slice(validationSize);
  if (trainSubset !== undefined && trainSubset < train.length) train = train.slice(0, trainSubset);
  return { train, validation };
}
