// Shapes of the data package: dataset specs from configs and the shared-memory Dataset handed to worker threads.

/** The user's own IDX files (MNIST layout; `.gz` allowed). `numClasses` defaults to max(train label) + 1. */
export interface IdxDatasetSpec {
  type: 'idx';
  trainImages: string;
  trainLabels: string;
  testImages: string;
  testLabels: string;
  numClasses?: number;
  name?: string;
}

export type DatasetSpec = 'mnist' | 'fashion-mnist' | IdxDatasetSpec;

/** Images as uint8 [count, height, width, channels] row-major and one uint8 label per image, both on SharedArrayBuffers. */
export interface DataSplit {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

/**
 * Structured-cloneable: posting it to a worker shares the SharedArrayBuffer memory instead of copying it,
 * so memory does not grow with the number of workers.
 */
export interface Dataset {
  name: string;
  height: number;
  width: number;
  channels: number;
  numClasses: number;
  train: DataSplit;
  test: DataSplit;
}
