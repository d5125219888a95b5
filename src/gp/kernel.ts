// Matérn-5/2 ARD kernel over mixed inputs: squared differences on continuous dims, Hamming distance on categorical ones, optionally mixed with its additive (first-order) counterpart.
//
// A categorical dimension holds a category index; two points differ on it by 1 if the indices differ,
// else 0 (as in Optuna's GP). One lengthscale per parameter, so a categorical costs one hyperparameter,
// not one per choice as a one-hot encoding would, and no fractional "in-between" categories exist.
//
// With additive weight a (Duvenaud et al. 2011, "Additive Gaussian processes", orders 1 and d):
//   k(x, x') = s2 [ (1 - a) m(r^2) + (a / d) sum_j m(r_j^2) ],  r_j^2 = delta_j^2 / l_j^2,  r^2 = sum_j r_j^2
// where m is the Matérn-5/2 profile. The product term models interactions; the additive term lets a function
// that is (nearly) a sum of one-dimensional effects be learned from a handful of points per dimension instead
// of a handful per cell of a d-dimensional grid. The lengthscales are shared; a is fitted like the others.

const SQRT5 = Math.sqrt(5);

/** Per-dimension squared distance, row-major pairs: `D[k * P + p]` for dim k and pair p = (i, j), i > j. */
export interface PairDistances {
  n: number;
  d: number;
  /** Number of pairs, n (n - 1) / 2. */
  P: number;
  D: Float64Array;
}

export function pairDistances(X: Float64Array, n: number, d: number, categorical: Uint8Array): PairDistances {
  const P = (n * (n - 1)) / 2;
  const D = new Float64Array(P * d);
  let p = 0;
  for (let i = 1; i < n; i++) {
    for (let j = 0; j < i; j++, p++) {
      for (let k = 0; k < d; k++) {
        const a = X[i * d + k]!;
        const b = X[j * d + k]!;
        D[k * P + p] = categorical[k] ? (a === b ? 0 : 1) : (a - b) * (a - b);
      }
    }
  }
  return { n, d, P, D };
}

/** Both at once (one exp): [k(r) / s2, d k / d(r^2) / s2]. */
export function maternBoth(r2: number, out: Float64Array): void {
  const r = Math.sqrt(r2);
  const e = Math.exp(-SQRT5 * r);
  out[0] = (1 + SQRT5 * r + (5 / 3) * r2) * e;
  out[1] = (-5 / 6) * (1 + SQRT5 * r) * e;
}

/**
 * k(x, X_i) for the mixed kernel (see the header), and when `grad` is given, d k / d x_j written to grad[off + j]
 * (zero on categorical dims). `scratch` (length d) holds per-dim r_j^2 between the passes.
 */
export function mixedKernel(
  x: ArrayLike<number>, X: Float64Array, i: number, d: number, invLs2: Float64Array, categorical: Uint8Array,
  s2: number, a: number, scratch: Float64Array, grad?: Float64Array, off = 0,
): number {
  let r2 = 0;
  for (let k = 0; k < d; k++) {
    const u = x[k]!;
    const v = X[i * d + k]!;
    const rj = categorical[k] ? (u === v ? 0 : invLs2[k]!) : (u - v) * (u - v) * invLs2[k]!;
    scratch[k] = rj;
    r2 += rj;
  }
  const r = Math.sqrt(r2);
  const e = Math.exp(-SQRT5 * r);
  let value = (1 - a) * (1 + SQRT5 * r + (5 / 3) * r2) * e;
  const gProd = (1 - a) * (-5 / 6) * (1 + SQRT5 * r) * e;
  if (a > 0) {
    const w = a / d;
    for (let k = 0; k < d; k++) {
      const rj = scratch[k]!;
      const sj = Math.sqrt(rj);
      const ej = Math.exp(-SQRT5 * sj);
      value += w * (1 + SQRT5 * sj + (5 / 3) * rj) * ej;
      if (grad) scratch[k] = w * (-5 / 6) * (1 + SQRT5 * sj) * ej;
    }
  }
  if (grad) {
    for (let k = 0; k < d; k++) {
      if (categorical[k]) {
        grad[off + k] = 0;
        continue;
      }
      const dr2 = a > 0 ? gProd + scratch[k]! : gProd;
      grad[off + k] = s2 * dr2 * 2 * (x[k]! - X[i * d + k]!) * invLs2[k]!;
    }
  }
  return s2 * value;
}
