// Gaussian-process regression with a Matérn-5/2 ARD kernel (optionally mixed with its additive counterpart): likelihood with gradients, posterior predictions with gradients.
//
// Notation (n observations, d input dimensions, m query points):
//   X      n x d   inputs; continuous dims in [0, 1], categorical dims hold a category index
//   y      n       standardized outputs (mean 0, variance 1), lower is better
//   theta  d + 2   [log l_1 .. log l_d, log s2, log noise]: lengthscales, signal variance, noise variance;
//          d + 3   ... and logit a, the weight of the additive term (kernel.ts); length d + 2 means a = 0
//   K      n x n   kernel matrix k(X, X) + noise I
//   L      n x n   lower Cholesky factor, K = L L^T
//   alpha  n       K^-1 y (two triangular solves, never an explicit inverse)
//   W      n x n   K^-1, formed only for the likelihood gradient, where every tr(K^-1 dK/dtheta) needs it
//   k*     n       k(X, x*) for one query point; v = L^-1 k*
//   mean = k*^T alpha;  var = s2 - v^T v  (latent f, noise excluded)
import { cholesky, cholInverse, cholInverseDiag, cholLogDet, solveLower, solveLowerT } from './linalg.js';
import { maternBoth, mixedKernel, pairDistances, type PairDistances } from './kernel.js';
import { logPrior } from './prior.js';

const SQRT5 = Math.sqrt(5);

export interface GpData {
  X: Float64Array;
  y: Float64Array;
  n: number;
  d: number;
  /** 1 where the dimension is categorical (Hamming distance), else 0. */
  categorical: Uint8Array;
}

/** Smallest noise variance (of the standardized outputs) the fit may learn: noiseless objectives sit on it. */
export const NOISE_FLOOR = 1e-6;
export const LS_BOUNDS = [5e-3, 1e3] as const;
export const SIGNAL_BOUNDS = [1e-3, 1e3] as const;

/** logit a is kept within +-8: a between 3e-4 and 0.9997. */
export const ADDITIVE_LOGIT_BOUND = 8;

/** Additive weight a of a theta (0 without the additive entry). */
export function additiveWeight(theta: ArrayLike<number>, d: number): number {
  return theta.length > d + 2 ? 1 / (1 + Math.exp(-theta[d + 2]!)) : 0;
}

/** Box for theta: lengthscales 0.005..1000 (beyond that a dim is irrelevant), s2 1e-3..1e3, noise NOISE_FLOOR..1, logit a +-8. */
export function thetaBounds(d: number, additive = true): { lower: Float64Array; upper: Float64Array } {
  const lower = new Float64Array(d + (additive ? 3 : 2));
  const upper = new Float64Array(d + (additive ? 3 : 2));
  if (additive) {
    lower[d + 2] = -ADDITIVE_LOGIT_BOUND;
    upper[d + 2] = ADDITIVE_LOGIT_BOUND;
  }
  for (let k = 0; k < d; k++) {
    lower[k] = Math.log(LS_BOUNDS[0]);
    upper[k] = Math.log(LS_BOUNDS[1]);
  }
  lower[d] = Math.log(SIGNAL_BOUNDS[0]);
  upper[d] = Math.log(SIGNAL_BOUNDS[1]);
  lower[d + 1] = Math.log(NOISE_FLOOR);
  upper[d + 1] = Math.log(1);
  return { lower, upper };
}

interface KernelMatrix {
  K: Float64Array;
  /** Per pair: s2 (1 - a) m'(r^2), the product term's derivative in r^2. */
  dProfile: Float64Array;
  /** Additive only, per dim and pair (D's layout): s2 (a / d) m'(r_j^2). */
  dAdd: Float64Array | null;
  /** Additive only, per pair: s2 (mean_j m(r_j^2) - m(r^2)) = d k / d a. */
  dWeight: Float64Array | null;
}

/** Lower triangle of the kernel matrix (with noise on the diagonal) from precomputed pair distances. */
function kernelMatrix(pd: PairDistances, theta: Float64Array): KernelMatrix {
  const { n, d, P, D } = pd;
  const s2 = Math.exp(theta[d]!);
  const noise = Math.exp(theta[d + 1]!);
  const a = additiveWeight(theta, d);
  const invLs2 = new Float64Array(d);
  for (let k = 0; k < d; k++) invLs2[k] = Math.exp(-2 * theta[k]!);
  const r2 = new Float64Array(P);
  for (let k = 0; k < d; k++) {
    const w = invLs2[k]!;
    const off = k * P;
    for (let p = 0; p < P; p++) r2[p] += w * D[off + p]!;
  }
  const K = new Float64Array(n * n);
  const dProfile = new Float64Array(P);
  const both = new Float64Array(2);
  const prod = new Float64Array(P);
  let p = 0;
  for (let i = 1; i < n; i++) {
    for (let j = 0; j < i; j++, p++) {
      maternBoth(r2[p]!, both);
      prod[p] = both[0]!;
      K[i * n + j] = s2 * (1 - a) * both[0]!;
      dProfile[p] = s2 * (1 - a) * both[1]!;
    }
  }
  let dAdd: Float64Array | null = null;
  let dWeight: Float64Array | null = null;
  if (theta.length > d + 2) {
    dAdd = new Float64Array(P * d);
    const sum = new Float64Array(P);
    const c = (s2 * a) / d;
    for (let k = 0; k < d; k++) {
      const w = invLs2[k]!;
      const off = k * P;
      // maternBoth inlined: this loop runs d times more often than the product term's and dominates the fit.
      for (let q = 0; q < P; q++) {
        const r2 = w * D[off + q]!;
        const r = Math.sqrt(r2);
        const e = Math.exp(-SQRT5 * r);
        sum[q] += (1 + SQRT5 * r + (5 / 3) * r2) * e;
        dAdd[off + q] = c * ((-5 / 6) * (1 + SQRT5 * r) * e);
      }
    }
    dWeight = new Float64Array(P);
    p = 0;
    for (let i = 1; i < n; i++) {
      for (let j = 0; j < i; j++, p++) {
        K[i * n + j] += ((s2 * a) / d) * sum[p]!;
        dWeight[p] = s2 * (sum[p]! / d - prod[p]!);
      }
    }
  }
  // Only the lower triangle is filled: the Cholesky and the gradient read nothing else.
  for (let i = 0; i < n; i++) K[i * n + i] = s2 + noise;
  return { K, dProfile, dAdd, dWeight };
}

/**
 * The log marginal likelihood at theta, without the hyperprior: the model's evidence, to compare fits of the same
 * points. -Infinity where the kernel matrix cannot be factored even with jitter.
 */
export function logEvidence(data: GpData, theta: Float64Array): number {
  try {
    return -negLogPosterior(data, theta, undefined, false).value;
  } catch {
    return -Infinity;
  }
}

/**
 * Negative log marginal likelihood minus log prior, and its analytic gradient in theta:
 *   nll = 1/2 y^T alpha + 1/2 log det K + n/2 log 2pi
 *   d nll / d theta = 1/2 tr((W - alpha alpha^T) dK/dtheta)
 */
export function negLogPosterior(data: GpData, theta: Float64Array, pd?: PairDistances, withPrior = true): { value: number; grad: Float64Array } {
  const { n, d } = data;
  const dist = pd ?? pairDistances(data.X, n, d, data.categorical);
  const { K, dProfile, dAdd, dWeight } = kernelMatrix(dist, theta);
  const { L } = cholesky(K, n);
  const alpha = Float64Array.from(data.y);
  solveLower(L, n, alpha);
  solveLowerT(L, n, alpha);
  let yAlpha = 0;
  for (let i = 0; i < n; i++) yAlpha += data.y[i]! * alpha[i]!;
  let value = 0.5 * yAlpha + 0.5 * cholLogDet(L, n) + 0.5 * n * Math.log(2 * Math.PI);
  const W = cholInverse(L, n);
  const s2 = Math.exp(theta[d]!);
  const noise = Math.exp(theta[d + 1]!);
  const grad = new Float64Array(theta.length);
  // Off-diagonal pairs (each counted twice in the trace, hence no 1/2).
  const { P, D } = dist;
  const q = new Float64Array(P);
  const c = new Float64Array(P);
  let gS = 0;
  let gA = 0;
  let p = 0;
  for (let i = 1; i < n; i++) {
    for (let j = 0; j < i; j++, p++) {
      const qq = W[i * n + j]! - alpha[i]! * alpha[j]!;
      q[p] = qq;
      c[p] = qq * dProfile[p]!;
      gS += qq * K[i * n + j]!;
      if (dWeight) gA += qq * dWeight[p]!;
    }
  }
  let trQ = 0;
  for (let i = 0; i < n; i++) trQ += W[i * n + i]! - alpha[i]! * alpha[i]!;
  for (let k = 0; k < d; k++) {
    const off = k * P;
    let sum = 0;
    if (dAdd) for (let pp = 0; pp < P; pp++) sum += (c[pp]! + q[pp]! * dAdd[off + pp]!) * D[off + pp]!;
    else for (let pp = 0; pp < P; pp++) sum += c[pp]! * D[off + pp]!;
    // d r_k^2 / d log l_k = -2 D_k / l_k^2.
    grad[k] = -2 * Math.exp(-2 * theta[k]!) * sum;
  }
  grad[d] = gS + 0.5 * s2 * trQ;
  grad[d + 1] = 0.5 * noise * trQ;
  if (dWeight) {
    const a = additiveWeight(theta, d);
    grad[d + 2] = gA * a * (1 - a);
  }
  if (withPrior) {
    const prior = logPrior(theta, d);
    value -= prior.value;
    for (let k = 0; k < theta.length; k++) grad[k] -= prior.grad[k]!;
  }
  return { value, grad };
}

export interface Prediction {
  mean: number;
  variance: number;
}

export interface PredictionWithGrad extends Prediction {
  /** d mean / dx and d variance / dx (zero on categorical dims, which are optimized discretely). */
  dMean: Float64Array;
  dVariance: Float64Array;
}

const VAR_FLOOR = 1e-12;

/** A GP conditioned on data with fixed hyperparameters. */
export class GaussianProcess {
  readonly n: number;
  readonly d: number;
  readonly theta: Float64Array;
  readonly s2: number;
  readonly noise: number;
  readonly invLs2: Float64Array;
  /** Weight of the additive kernel term (0: plain product Matérn). */
  readonly additive: number;
  readonly jitter: number;
  private readonly alpha: Float64Array;
  private readonly scratch: Float64Array;

  private constructor(
    readonly X: Float64Array,
    readonly y: Float64Array,
    readonly categorical: Uint8Array,
    theta: Float64Array,
    private readonly L: Float64Array,
    jitter: number,
  ) {
    this.n = y.length;
    this.d = categorical.length;
    this.theta = theta;
    this.s2 = Math.exp(theta[this.d]!);
    this.noise = Math.exp(theta[this.d + 1]!);
    this.invLs2 = new Float64Array(this.d);
    for (let k = 0; k < this.d; k++) this.invLs2[k] = Math.exp(-2 * theta[k]!);
    this.additive = additiveWeight(theta, this.d);
    this.scratch = new Float64Array(this.d);
    this.jitter = jitter;
    this.alpha = Float64Array.from(y);
    solveLower(L, this.n, this.alpha);
    solveLowerT(L, this.n, this.alpha);
  }

  static create(data: GpData, theta: Float64Array): GaussianProcess {
    const pd = pairDistances(data.X, data.n, data.d, data.categorical);
    const { K } = kernelMatrix(pd, theta);
    const { L, jitter } = cholesky(K, data.n);
    return new GaussianProcess(Float64Array.from(data.X), Float64Array.from(data.y), data.categorical, Float64Array.from(theta), L, jitter);
  }

  /** Kernel vector k(X, x). */
  kstar(x: ArrayLike<number>): Float64Array {
    const k = new Float64Array(this.n);
    for (let i = 0; i < this.n; i++) k[i] = mixedKernel(x, this.X, i, this.d, this.invLs2, this.categorical, this.s2, this.additive, this.scratch);
    return k;
  }

  /** k(X, x) and dk[i*d + j] = d k(x, X_i) / d x_j (zero on categorical dims). */
  kstarWithGrad(x: ArrayLike<number>): { k: Float64Array; dk: Float64Array } {
    const { n, d } = this;
    const k = new Float64Array(n);
    const dk = new Float64Array(n * d);
    for (let i = 0; i < n; i++) k[i] = mixedKernel(x, this.X, i, d, this.invLs2, this.categorical, this.s2, this.additive, this.scratch, dk, i * d);
    return { k, dk };
  }

  /** Prior covariance k(a, b) and its gradient in a (zero on categorical dims). */
  kernelPair(a: ArrayLike<number>, b: ArrayLike<number>): { value: number; grad: Float64Array } {
    const grad = new Float64Array(this.d);
    const value = mixedKernel(a, Float64Array.from(b), 0, this.d, this.invLs2, this.categorical, this.s2, this.additive, this.scratch, grad, 0);
    return { value, grad };
  }

  /** L^-1 v in place (K = L L^T). */
  solveL(v: Float64Array): Float64Array {
    return solveLower(this.L, this.n, v);
  }

  /** L^-T v in place: after solveL, gives K^-1 v. */
  solveLT(v: Float64Array): Float64Array {
    return solveLowerT(this.L, this.n, v);
  }

  /** Posterior mean only: O(n d), no triangular solve (importance sampling and recommendations need many). */
  predictMean(x: ArrayLike<number>): number {
    let mean = 0;
    for (let i = 0; i < this.n; i++) mean += mixedKernel(x, this.X, i, this.d, this.invLs2, this.categorical, this.s2, this.additive, this.scratch) * this.alpha[i]!;
    return mean;
  }

  /** Posterior mean from a kernel vector k(X, x) already at hand. */
  predictMeanFromKstar(k: Float64Array): number {
    let mean = 0;
    for (let i = 0; i < this.n; i++) mean += k[i]! * this.alpha[i]!;
    return mean;
  }

  /** d mean / dx from the kernel-vector gradient of `kstarWithGrad`. */
  meanGradFromDk(dk: Float64Array): Float64Array {
    const { n, d } = this;
    const g = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      const a = this.alpha[i]!;
      for (let j = 0; j < d; j++) g[j] += a * dk[i * d + j]!;
    }
    return g;
  }

  /** Lengthscales l_j = exp(theta_j). */
  lengthscales(): Float64Array {
    return Float64Array.from(this.invLs2, (v) => 1 / Math.sqrt(v));
  }

  /**
   * Mean leave-one-out log predictive density of the training outputs (Rasmussen & Williams eq. 5.10-5.12):
   * mu_-i = y_i - alpha_i / [K^-1]_ii, var_-i = 1 / [K^-1]_ii; one triangular inverse, no refits.
   */
  looLogPredictive(): number {
    const diag = cholInverseDiag(this.L, this.n);
    let s = 0;
    for (let i = 0; i < this.n; i++) {
      const w = diag[i]!;
      const a = this.alpha[i]!;
      s += -0.5 * Math.log(2 * Math.PI) + 0.5 * Math.log(w) - (a * a) / (2 * w);
    }
    return s / this.n;
  }

  predict(x: ArrayLike<number>): Prediction {
    const k = this.kstar(x);
    let mean = 0;
    for (let i = 0; i < this.n; i++) mean += k[i]! * this.alpha[i]!;
    solveLower(this.L, this.n, k);
    let vv = 0;
    for (let i = 0; i < this.n; i++) vv += k[i]! * k[i]!;
    return { mean, variance: Math.max(this.s2 - vv, VAR_FLOOR) };
  }

  predictWithGrad(x: ArrayLike<number>): PredictionWithGrad {
    const { n, d } = this;
    // dk[i*d + j] = d k(x, X_i) / d x_j = s2 * dk/d(r^2) * 2 (x_j - X_ij) / l_j^2
    const { k, dk } = this.kstarWithGrad(x);
    let mean = 0;
    const dMean = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      const a = this.alpha[i]!;
      mean += k[i]! * a;
      for (let j = 0; j < d; j++) dMean[j] += a * dk[i * d + j]!;
    }
    const v = Float64Array.from(k);
    solveLower(this.L, n, v);
    let vv = 0;
    for (let i = 0; i < n; i++) vv += v[i]! * v[i]!;
    const w = solveLowerT(this.L, n, v); // w = K^-1 k*
    const dVariance = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      const wi = w[i]!;
      for (let j = 0; j < d; j++) dVariance[j] -= 2 * wi * dk[i * d + j]!;
    }
    const raw = this.s2 - vv;
    if (raw < VAR_FLOOR) dVariance.fill(0);
    return { mean, variance: Math.max(raw, VAR_FLOOR), dMean, dVariance };
  }

  /**
   * The same GP with one more observation (a fantasy for a pending point), by extending the Cholesky factor
   * with one row: O(n^2) instead of refactorizing. A duplicate point gets the smallest pivot that keeps L valid.
   */
  condition(x: ArrayLike<number>, yNew: number): GaussianProcess {
    const { n, d } = this;
    const k = this.kstar(x);
    solveLower(this.L, n, k);
    let kk = 0;
    for (let i = 0; i < n; i++) kk += k[i]! * k[i]!;
    const pivot2 = Math.max(this.s2 + this.noise + this.jitter - kk, 1e-10 * this.s2);
    const m = n + 1;
    const L = new Float64Array(m * m);
    for (let i = 0; i < n; i++) L.set(this.L.subarray(i * n, i * n + i + 1), i * m);
    L.set(k, n * m);
    L[n * m + n] = Math.sqrt(pivot2);
    const X = new Float64Array(m * d);
    X.set(this.X);
    for (let j = 0; j < d; j++) X[n * d + j] = x[j]!;
    const y = new Float64Array(m);
    y.set(this.y);
    y[n] = yNew;
    return new GaussianProcess(X, y, this.categorical, this.theta, L, this.jitter);
  }
}
