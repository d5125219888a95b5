// A small seeded PRNG (mulberry32) so splits and batch streams are reproducible without touching Math.random.
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
}

/**
 * mulberry32 from the 32-bit `state` as given: uniform in [0, 1), passes the checks that matter for shuffling, and is
 * identical on every platform. The one home of the generator (the tests' fixtures draw from it too).
 */
export function mulberry32(state: number): () => number {
  let a = state >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded stream of mulberry32 whose seed is mixed first, so nearby seeds (0, 1, 2 ...) give unrelated streams. */
export function createRng(seed: number): Rng {
  const next = mulberry32(Math.imul((seed | 0) ^ 0x9e3779b9, 0x85ebca6b));
  return { next, int: (n: number) => Math.floor(next() * n) };
}

/** Fisher-Yates in place. */
export function shuffleInPlace(a: Int32Array, rng: Rng): Int32Array {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const tmp = a[i];
    a[i] = a[j];
    a[j] = tmp;
  }
  return a;
}

export function permutation(n: number, rng: Rng): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return shuffleInPlace(a, rng);
}
