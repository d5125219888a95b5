// Minibatch streams for the scenarios: i.i.d. epochs, batches from k classes only, and a class-sorted stream.
import { createRng, shuffleInPlace, type Rng } from './rng.js';

/** `sorted.runLength` counts images per single-class run; validateScenario defaults it to 10 batches, the sampler to the whole class. */
export type SamplerSpec = { type: 'iid' } | { type: 'classes'; k: number } | { type: 'sorted'; runLength?: number };

/** Yields indices into the dataset's train split; deterministic for a seed. */
export interface BatchSampler {
  readonly batchSize: number;
  next(): Int32Array;
}

/** A class's images in a shuffled order that is reshuffled each time it runs out. */
class Pool {
  private cursor = 0;
  constructor(private readonly items: Int32Array, private readonly rng: Rng) {
    shuffleInPlace(this.items, rng);
  }
  get size(): number {
    return this.items.length;
  }
  take(): number {
    if (this.cursor === this.items.length) {
      shuffleInPlace(this.items, this.rng);
      this.cursor = 0;
    }
    return this.items[this.cursor++];
  }
}

function poolsByClass(indices: Int32Array, labels: Uint8Array, numClasses: number, rng: Rng): Pool[] {
  const counts = new Int32Array(numClasses);
  for (const i of indices) counts[labels[i]]++;
  const members = Array.from(counts, (n) => new Int32Array(n));
  const fill = new Int32Array(numClasses);
  for (const i of indices) members[labels[i]][fill[labels[i]]++] = i;
  return members.map((m) => new Pool(m, rng));
}

export interface SamplerInput {
  /** Indices into the train split the sampler may draw from. */
  indices: Int32Array;
  labels: Uint8Array;
  numClasses: number;
  batchSize: number;
  seed: number;
}

export function createSampler(spec: SamplerSpec, input: SamplerInput): BatchSampler {
  const rng = createRng(input.seed);
  const { batchSize } = input;
  switch (spec.type) {
    case 'iid': {
      // Epochs without replacement: every image once per epoch, in a fresh order each epoch.
      const pool = new Pool(Int32Array.from(input.indices), rng);
      return { batchSize, next: () => Int32Array.from({ length: batchSize }, () => pool.take()) };
    }
    case 'classes': {
      const pools = poolsByClass(input.indices, input.labels, input.numClasses, rng);
      const present = pools.map((p, c) => (p.size > 0 ? c : -1)).filter((c) => c >= 0);
      const k = Math.min(spec.k, present.length);
      return {
        batchSize,
        next: () => {
          // k distinct classes per batch, filled round-robin so the batch is as balanced over them as its size allows.
          const chosen = shuffleInPlace(Int32Array.from(present), rng).subarray(0, k);
          return Int32Array.from({ length: batchSize }, (_, j) => pools[chosen[j % k]].take());
        },
      };
    }
    case 'sorted': {
      // Class 0's images, then class 1's, ... in runs of `runLength` (default: the whole class), cycling forever.
      // Unlike `classes` with k = 1, consecutive batches share a class, so BatchNorm's moving averages drift with it.
      const pools = poolsByClass(input.indices, input.labels, input.numClasses, rng);
      const order = pools.map((p, c) => (p.size > 0 ? c : -1)).filter((c) => c >= 0);
      let at = 0;
      let left = spec.runLength ?? pools[order[0]].size;
      return {
        batchSize,
        next: () =>
          Int32Array.from({ length: batchSize }, () => {
            if (left === 0) {
              at = (at + 1) % order.length;
              left = spec.runLength ?? pools[order[at]].size;
            }
            left--;
            return pools[order[at]].take();
          }),
      };
    }
  }
}
