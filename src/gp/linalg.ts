// Dense symmetric positive-definite algebra on row-major Float64Array: Cholesky with escalating jitter and triangular solves.
//
// Why typed arrays and not mathjs matrices here: `bench bo` times one GP likelihood step (kernel matrix,
// factorization, solves, gradient) at n = 200 both ways, mathjs on dense matrices of datatype 'number' (its
// typed fast path) against these loops, on the same problem with the same result (src/bench/bo/gp_step_mathjs.ts).
// mathjs stayed far outside the 3x that would justify moving the GP onto it (ratio in the README), and a fit runs
// tens of such steps per ask, so this is the hot path; mathjs stays the independent reference the tests check
// these loops against (test/gp/linalg.test.ts, test/gp/gp.test.ts, test/bench/bo/gp_step_mathjs.test.ts).

export interface CholeskyResult {
  /** Lower-triangular factor, row-major n x n (upper triangle is zero). */
  L: Float64Array;
  /** Jitter added to the diagonal to make the factorization succeed (0 when none was needed). */
  jitter: number;
}

/** Plain Cholesky; returns false when a pivot is not positive. */
function choleskyInto(A: Float64Array, n: number, jitter: number, L: Float64Array): boolean {
  L.fill(0);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j <= i; j++) {
      const rj = j * n;
      let s = A[ri + j]!;
      if (i === j) s += jitter;
      // Dot product of two contiguous row prefixes, unrolled by 4 (about 1.5x faster in V8 at n = 200).
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let k = 0;
      for (; k + 3 < j; k += 4) {
        s0 += L[ri + k]! * L[rj + k]!;
        s1 += L[ri + k + 1]! * L[rj + k + 1]!;
        s2 += L[ri + k + 2]! * L[rj + k + 2]!;
        s3 += L[ri + k + 3]! * L[rj + k + 3]!;
      }
      for (; k < j; k++) s0 += L[ri + k]! * L[rj + k]!;
      s -= s0 + s1 + s2 + s3;
      if (i === j) {
        if (!(s > 0)) return false;
        L[ri + i] = Math.sqrt(s);
      } else {
        L[ri + j] = s / L[rj + j]!;
      }
    }
  }
  return true;
}

/**
 * Cholesky of a symmetric PSD matrix; only the lower triangle of A is read. Duplicate inputs make a noise-free kernel singular, so on failure a
 * jitter of 1e-10, 1e-9, ... times the mean diagonal is added (up to 1e-2) rather than failing the whole fit.
 */
export function cholesky(A: Float64Array, n: number): CholeskyResult {
  const L = new Float64Array(n * n);
  if (choleskyInto(A, n, 0, L)) return { L, jitter: 0 };
  let meanDiag = 0;
  for (let i = 0; i < n; i++) meanDiag += A[i * n + i]!;
  meanDiag = Math.max(meanDiag / Math.max(n, 1), 1e-300);
  for (let e = -10; e <= -2; e++) {
    const jitter = meanDiag * 10 ** e;
    if (choleskyInto(A, n, jitter, L)) return { L, jitter };
  }
  throw new Error(`cholesky: matrix (${n}x${n}) is not positive definite even with jitter ${meanDiag * 1e-2}`);
}

/** Solves L x = b in place (forward substitution). */
export function solveLower(L: Float64Array, n: number, b: Float64Array): Float64Array {
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= L[ri + k]! * b[k]!;
    b[i] = s / L[ri + i]!;
  }
  return b;
}

/** Solves L^T x = b in place (back substitution on the transpose, without forming it). */
export function solveLowerT(L: Float64Array, n: number, b: Float64Array): Float64Array {
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i]!;
    for (let k = i + 1; k < n; k++) s -= L[k * n + i]! * b[k]!;
    b[i] = s / L[i * n + i]!;
  }
  return b;
}

/** Solves (L L^T) x = b, returning a new array. */
export function cholSolve(L: Float64Array, n: number, b: ArrayLike<number>): Float64Array {
  const x = Float64Array.from(b);
  solveLower(L, n, x);
  solveLowerT(L, n, x);
  return x;
}

/** log det(L L^T) = 2 sum log L_ii. */
export function cholLogDet(L: Float64Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.log(L[i * n + i]!);
  return 2 * s;
}

/**
 * U = (L^-1)^T, upper triangular, built so that every inner loop is a dot product of two contiguous rows:
 * U[j][i] = -(sum_{k=j}^{i-1} L[i][k] U[j][k]) / L[i][i]. Column-wise solves and outer-product updates
 * stride through or sweep memory and measured 2-4x slower at n = 400.
 */
function lowerInverseT(L: Float64Array, n: number): Float64Array {
  const U = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    const inv = 1 / L[ri + i]!;
    for (let j = 0; j < i; j++) {
      const rj = j * n;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let k = j;
      for (; k + 3 < i; k += 4) {
        s0 += L[ri + k]! * U[rj + k]!;
        s1 += L[ri + k + 1]! * U[rj + k + 1]!;
        s2 += L[ri + k + 2]! * U[rj + k + 2]!;
        s3 += L[ri + k + 3]! * U[rj + k + 3]!;
      }
      for (; k < i; k++) s0 += L[ri + k]! * U[rj + k]!;
      U[rj + i] = -(s0 + s1 + s2 + s3) * inv;
    }
    U[ri + i] = inv;
  }
  return U;
}

/** diag((L L^T)^-1): what leave-one-out predictions need, at a third of the cost of the full inverse. */
export function cholInverseDiag(L: Float64Array, n: number): Float64Array {
  const U = lowerInverseT(L, n);
  const out = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let i = j; i < n; i++) s += U[j * n + i]! * U[j * n + i]!;
    out[j] = s;
  }
  return out;
}

/**
 * (L L^T)^-1, symmetric, row-major. Only the likelihood gradient needs it (tr(K^-1 dK) for every
 * hyperparameter at once); predictions always use triangular solves. Built as Linv^T Linv from the
 * triangular inverse, about n^3/3 + n^3/3 flops.
 */
export function cholInverse(L: Float64Array, n: number): Float64Array {
  const U = lowerInverseT(L, n);
  // W = U U^T restricted to k >= max(i, j): W_ij = sum_{k >= i} U[i][k] U[j][k] for i >= j.
  const W = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j <= i; j++) {
      const rj = j * n;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let k = i;
      for (; k + 3 < n; k += 4) {
        s0 += U[ri + k]! * U[rj + k]!;
        s1 += U[ri + k + 1]! * U[rj + k + 1]!;
        s2 += U[ri + k + 2]! * U[rj + k + 2]!;
        s3 += U[ri + k + 3]! * U[rj + k + 3]!;
      }
      for (; k < n; k++) s0 += U[ri + k]! * U[rj + k]!;
      W[ri + j] = s0 + s1 + s2 + s3;
    }
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) W[j * n + i] = W[i * n + j]!;
  return W;
}
