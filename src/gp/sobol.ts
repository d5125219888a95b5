// Scrambled Sobol points in [0,1]^d: low-discrepancy initial designs and acquisition candidates.
import { Rng } from './rng.js';

/**
 * Joe & Kuo (2008) direction numbers `new-joe-kuo-6.21201`, dimensions 2..32, one row each as
 * `s a m_1 .. m_s` (degree, polynomial coefficients, initial direction integers). Dimension 1 is van der
 * Corput and needs none. This is published data, not code; more dimensions fall back to uniform random.
 */
const JOE_KUO = [
  '1 0 1', '2 1 1 3', '3 1 1 3 1', '3 2 1 1 1', '4 1 1 1 3 3', '4 4 1 3 5 13', '5 2 1 1 5 5 17',
  '5 4 1 1 5 5 5', '5 7 1 1 7 11 19', '5 11 1 1 5 1 1', '5 13 1 1 1 3 11', '5 14 1 3 5 5 31',
  '6 1 1 3 3 9 7 49', '6 13 1 1 1 15 21 21', '6 16 1 3 1 13 27 49', '6 19 1 1 1 15 7 5',
  '6 22 1 3 1 15 13 25', '6 25 1 1 5 5 19 61', '7 1 1 3 7 11 23 15 103', '7 4 1 3 7 13 13 15 69',
  '7 7 1 1 3 13 7 35 63', '7 8 1 3 5 9 1 25 53', '7 14 1 3 1 13 9 35 107', '7 19 1 3 1 5 27 61 31',
  '7 21 1 1 5 11 19 41 61', '7 28 1 3 5 3 3 13 69', '7 31 1 1 7 13 1 19 1', '7 32 1 3 7 5 13 19 59',
  '7 37 1 1 3 9 25 29 41', '7 41 1 3 5 13 23 1 55', '7 42 1 3 7 3 13 59 17',
];

export const SOBOL_MAX_DIM = JOE_KUO.length + 1;
const BITS = 32;

/** Direction integers v[k] (already shifted to 32-bit fixed point) for one dimension. */
/** Exported for tests only. */
export function directions(dim: number): Uint32Array {
  const v = new Uint32Array(BITS);
  if (dim === 0) {
    for (let k = 0; k < BITS; k++) v[k] = (1 << (31 - k)) >>> 0;
    return v;
  }
  const row = JOE_KUO[dim - 1]!.split(' ').map(Number);
  const s = row[0]!;
  const a = row[1]!;
  const m = row.slice(2);
  for (let k = 0; k < BITS; k++) {
    let mk: number;
    if (k < s) {
      mk = m[k]!;
    } else {
      // Recurrence of Bratley & Fox: m_k = 2a_1 m_{k-1} ^ 4a_2 m_{k-2} ^ ... ^ 2^s m_{k-s} ^ m_{k-s}.
      mk = m[k - s]! ^ (m[k - s]! << s);
      for (let i = 1; i < s; i++) {
        if ((a >>> (s - 1 - i)) & 1) mk ^= m[k - i]! << i;
      }
    }
    m[k] = mk;
    v[k] = (mk << (31 - k)) >>> 0;
  }
  return v;
}

/**
 * Points `start .. start+count-1` of a `d`-dimensional Sobol sequence, digitally shifted by a random
 * 32-bit mask per dimension drawn from `seed` (a shift keeps the net's stratification and removes the
 * point at the origin). Row-major `count x d`.
 */
export function sobolPoints(d: number, start: number, count: number, seed: number): Float64Array {
  const out = new Float64Array(count * d);
  const rng = new Rng(seed, 0x50b01);
  if (d > SOBOL_MAX_DIM) {
    // No direction numbers that far: uniform random is the honest fallback.
    const skip = new Rng(seed, start + 1);
    for (let i = 0; i < out.length; i++) out[i] = skip.uniform();
    return out;
  }
  for (let j = 0; j < d; j++) {
    const v = directions(j);
    const shift = rng.uint32();
    for (let i = 0; i < count; i++) {
      // Direct (non-Gray) construction: x_n = XOR of v_k over the set bits of n. Order does not matter here.
      let n = start + i;
      let x = 0;
      for (let k = 0; n > 0 && k < BITS; k++, n = Math.floor(n / 2)) {
        if (n & 1) x ^= v[k]!;
      }
      x = (x ^ shift) >>> 0;
      // Centre inside the 2^-32 cell so no coordinate is exactly 0.
      out[i * d + j] = (x + 0.5) / 4294967296;
    }
  }
  return out;
}
