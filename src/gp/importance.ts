// Per-dimension importance of a function on the encoded box: total-order Sobol indices (Jansen estimator on scrambled Sobol points), normalized to sum to 1.
//
// Applied to the GP posterior mean, this says how much of the surrogate's variation each parameter accounts
// for, interactions included (a parameter that only matters together with another still gets its share).
// Total-order rather than first-order indices: a first-order index misses a parameter whose effect is pure
// interaction, which is common for schedule parameters (a ramp end matters only if the ramp is tall).
import { snapPoint, type DimSpec } from './optimize_acqf.js';
import { sobolPoints } from './sobol.js';

export interface SobolImportance {
  /** Normalized total-order indices (summing to 1), or null when `f` does not vary at all on the box. */
  shares: Float64Array | null;
  /** The variance of `f` under the uniform distribution on the box (its total variance, estimated on the same points). */
  variance: number;
}

export interface ImportanceOptions {
  /** Base sample size N; the mean function is evaluated N (d + 2) times (default 1024). */
  samples?: number;
  seed: number;
}

/**
 * Normalized total-order indices of `f` under the uniform distribution on the encoded box (uniform over the
 * choices of a categorical and over the levels of an integer), with the variance they divide. A function that does
 * not vary at all has no shares: equal ones would read as "every parameter matters as much", which nothing showed.
 * Whether a small variance is a real one is the caller's to judge, against its output's scale.
 */
export function totalSobolImportance(f: (x: Float64Array) => number, dims: DimSpec[], opts: ImportanceOptions): SobolImportance {
  const d = dims.length;
  const N = opts.samples ?? 1024;
  const u = sobolPoints(2 * d, 0, N, opts.seed);
  const A: Float64Array[] = [];
  const B: Float64Array[] = [];
  for (let s = 0; s < N; s++) {
    A.push(snapPoint(u.slice(s * 2 * d, s * 2 * d + d), dims, true));
    B.push(snapPoint(u.slice(s * 2 * d + d, (s + 1) * 2 * d), dims, true));
  }
  const fA = A.map(f);
  const fB = B.map(f);
  let mean = 0;
  for (let s = 0; s < N; s++) mean += fA[s]! + fB[s]!;
  mean /= 2 * N;
  let variance = 0;
  for (let s = 0; s < N; s++) variance += (fA[s]! - mean) ** 2 + (fB[s]! - mean) ** 2;
  variance /= 2 * N;
  const st = new Float64Array(d);
  if (!(variance > 1e-300)) return { shares: null, variance: Number.isFinite(variance) ? variance : 0 };
  for (let i = 0; i < d; i++) {
    let s2 = 0;
    for (let s = 0; s < N; s++) {
      const ab = Float64Array.from(A[s]!);
      ab[i] = B[s]![i]!;
      s2 += (fA[s]! - f(ab)) ** 2;
    }
    // Jansen (1999): S_Ti = E[(f(A) - f(A_B^i))^2] / (2 Var f).
    st[i] = s2 / (2 * N) / variance;
  }
  let total = 0;
  for (let i = 0; i < d; i++) total += st[i]!;
  if (!(total > 0)) return { shares: null, variance };
  for (let i = 0; i < d; i++) st[i] = st[i]! / total;
  return { shares: st, variance };
}
