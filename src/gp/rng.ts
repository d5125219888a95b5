// Seeded pseudo-random numbers (sfc32 seeded through splitmix32): reproducible streams, never Math.random.

/** splitmix32 step: spreads nearby seeds (0, 1, 2, ...) into unrelated 32-bit states. */
function splitmix32(state: number): [number, number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [next, z >>> 0];
}

/** Mixes integers into one 32-bit seed so (seed, stream) pairs give independent generators. */
export function mixSeed(...parts: number[]): number {
  let h = 0x12345678;
  for (const p of parts) {
    // Split into two 32-bit halves so seeds above 2^32 still matter.
    const lo = p >>> 0;
    const hi = Math.floor(p / 4294967296) >>> 0;
    for (const v of [lo, hi]) {
      let s: number;
      [s, h] = splitmix32(h ^ v);
      h = (h ^ s) >>> 0;
    }
  }
  return h >>> 0;
}

/** Small fast generator (sfc32); its whole state is four 32-bit words. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream = 0) {
    let s = mixSeed(seed, stream);
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      let w: number;
      [s, w] = splitmix32(s);
      words.push(w);
    }
    [this.a, this.b, this.c, this.d] = words as [number, number, number, number];
    // Discard the first outputs: sfc32 needs a few rounds to decorrelate from the seed.
    for (let i = 0; i < 12; i++) this.uint32();
  }

  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.uint32() >>> 5; // 27 bits
    const lo = this.uint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.min(n - 1, Math.floor(this.uniform() * n));
  }

  /** Standard normal (Box-Muller; one value per call keeps the state simple to reason about). */
  normal(): number {
    let u = this.uniform();
    while (u <= 0) u = this.uniform();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** 0..n-1 in a random order (Fisher-Yates). */
  permutation(n: number): number[] {
    const a = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  }
}
