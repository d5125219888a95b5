// Monte Carlo batch log expected improvement (qLogEI, Ament et al. 2023) for greedy batches: one new point scored jointly with fixed ones.
//
// Sequential greedy batch selection (BoTorch's and Optuna 5's): the first point maximizes analytic LogEI; each
// further point x maximizes qLogEI of {fixed..., x}, where "fixed" holds the earlier batch members and every
// pending trial. Unlike a kriging believer, which pretends a pending point returned its posterior mean, this
// integrates over what the pending points may still return, so a point next to a pending one keeps value only
// where the pending one may fail to improve.
//
// Notation (n training points, k fixed points, S base samples):
//   mu_F, Sigma_FF    posterior mean (k) and covariance (k x k) of the fixed points;  L_F = chol(Sigma_FF)
//   z_s = [zF_s, z'_s] fixed standard-normal base samples (scrambled Sobol through Phi^-1), row s of S x (k+1)
//   m_s = min_j (mu_F + L_F zF_s)_j                 the fixed points' best value in sample s (precomputed)
//   a   = L_F^-1 Sigma_F(x),  c^2 = var(x) - a.a    so that the joint sample of x is y_s = mu(x) + a.zF_s + c z'_s
//   improvement_s = max(0, best - m_s, best - y_s), smoothed as tau * logsumexp(0, (best - m_s)/tau, (best - y_s)/tau)
//   qLogEI(x) = log (1/S) sum_s improvement_s      (logsumexp over samples: finite far from the incumbent)
import type { GaussianProcess } from './gp.js';
import { cholesky, solveLower } from './linalg.js';
import { normQuantile } from './normal.js';
import { sobolPoints } from './sobol.js';

export interface QLogEIOptions {
  /** Base samples S (default 128). */
  samples?: number;
  /** Seed of the scrambled Sobol base samples: fixed samples make the estimate a smooth deterministic function of x. */
  seed: number;
  /** Smoothing temperature of the max, in standardized output units (default 1e-3). */
  tau?: number;
}

function logSoftplus(u: number): { value: number; du: number } {
  if (u < -40) return { value: u, du: 1 };
  if (u > 40) return { value: Math.log(u), du: 1 / u };
  const sp = Math.log1p(Math.exp(u));
  const sig = 1 / (1 + Math.exp(-u));
  return { value: Math.log(sp), du: sig / sp };
}

export class QLogEI {
  private readonly k: number;
  private readonly S: number;
  private readonly tau: number;
  /** zF (S x k) and z' (S), row-major. */
  private readonly zF: Float64Array;
  private readonly zNew: Float64Array;
  /** I_s = best - m_s. */
  private readonly fixedImprovement: Float64Array;
  private readonly LF: Float64Array;
  /** v_j = L^-1 k(X, x_j) and w_j = K^-1 k(X, x_j) for each fixed point. */
  private readonly vF: Float64Array[];
  private readonly wF: Float64Array[];

  constructor(
    private readonly gp: GaussianProcess,
    private readonly fixed: Float64Array[],
    private readonly best: number,
    opts: QLogEIOptions,
  ) {
    const k = fixed.length;
    this.k = k;
    this.S = opts.samples ?? 128;
    this.tau = opts.tau ?? 1e-3;
    this.vF = [];
    this.wF = [];
    const muF = new Float64Array(k);
    for (const x of fixed) {
      const v = gp.solveL(gp.kstar(x));
      this.vF.push(Float64Array.from(v));
      this.wF.push(gp.solveLT(v));
    }
    fixed.forEach((x, j) => (muF[j] = gp.predictMean(x)));
    const cov = new Float64Array(k * k);
    for (let i = 0; i < k; i++) {
      for (let j = 0; j <= i; j++) {
        let vv = 0;
        for (let t = 0; t < gp.n; t++) vv += this.vF[i]![t]! * this.vF[j]![t]!;
        cov[i * k + j] = gp.kernelPair(fixed[i]!, fixed[j]!).value - vv;
      }
      // A floor on the diagonal keeps duplicates of training points (zero posterior variance) factorizable.
      cov[i * k + i] = Math.max(cov[i * k + i]!, 1e-10 * gp.s2);
    }
    this.LF = k > 0 ? cholesky(cov, k).L : new Float64Array(0);
    const S = this.S;
    const u = sobolPoints(k + 1, 0, S, opts.seed);
    this.zF = new Float64Array(S * k);
    this.zNew = new Float64Array(S);
    this.fixedImprovement = new Float64Array(S);
    for (let s = 0; s < S; s++) {
      for (let j = 0; j < k; j++) this.zF[s * k + j] = normQuantile(u[s * (k + 1) + j]!);
      this.zNew[s] = normQuantile(u[s * (k + 1) + k]!);
      let m = Infinity;
      for (let i = 0; i < k; i++) {
        let y = muF[i]!;
        for (let j = 0; j <= i; j++) y += this.LF[i * k + j]! * this.zF[s * k + j]!;
        m = Math.min(m, y);
      }
      this.fixedImprovement[s] = best - m;
    }
  }

  /** qLogEI at x (higher is better) and, when asked, its gradient in x (zero on categorical dims). */
  score(x: Float64Array, withGrad: boolean): { value: number; grad?: Float64Array } {
    const { gp, k, S, tau, best } = this;
    const d = gp.d;
    const n = gp.n;
    const kg = withGrad ? gp.kstarWithGrad(x) : { k: gp.kstar(x), dk: null };
    const mean = gp.predictMeanFromKstar(kg.k);
    const v = gp.solveL(Float64Array.from(kg.k));
    let vv = 0;
    for (let t = 0; t < n; t++) vv += v[t]! * v[t]!;
    const varX = gp.s2 - vv;
    const sigmaXF = new Float64Array(k);
    const pairs = this.fixed.map((f) => gp.kernelPair(x, f));
    for (let j = 0; j < k; j++) {
      let dot = 0;
      const vj = this.vF[j]!;
      for (let t = 0; t < n; t++) dot += v[t]! * vj[t]!;
      sigmaXF[j] = pairs[j]!.value - dot;
    }
    const a = solveLower(this.LF, k, Float64Array.from(sigmaXF));
    let aa = 0;
    for (let j = 0; j < k; j++) aa += a[j]! * a[j]!;
    const c2raw = varX - aa;
    const cFloor = 1e-12 * gp.s2;
    const c = Math.sqrt(Math.max(c2raw, cFloor));
    // Per-sample log improvement, and its derivative in the sample y_s.
    const li = new Float64Array(S);
    const dli = new Float64Array(S);
    const logTau = Math.log(tau);
    let maxLi = -Infinity;
    for (let s = 0; s < S; s++) {
      let y = mean + c * this.zNew[s]!;
      for (let j = 0; j < k; j++) y += a[j]! * this.zF[s * k + j]!;
      const e1 = this.fixedImprovement[s]! / tau;
      const e2 = (best - y) / tau;
      // u = logsumexp(e1, e2) and p2 = d u / d e2; with tau this small one term nearly always dominates, and
      // skipping the exps there is what keeps screening 2,048 candidates affordable.
      let u: number;
      let p2: number;
      if (e1 - e2 > 40) {
        u = e1;
        p2 = 0;
      } else if (e2 - e1 > 40) {
        u = e2;
        p2 = 1;
      } else {
        const m = Math.max(e1, e2);
        u = m + Math.log(Math.exp(e1 - m) + Math.exp(e2 - m));
        p2 = Math.exp(e2 - u);
      }
      if (u < -40) {
        // log softplus(u) = u there, with derivative 1.
        li[s] = logTau + u;
        dli[s] = -p2 / tau;
      } else {
        const ls = logSoftplus(u);
        li[s] = logTau + ls.value;
        dli[s] = (-ls.du * p2) / tau;
      }
      if (li[s]! > maxLi) maxLi = li[s]!;
    }
    let sum = 0;
    for (let s = 0; s < S; s++) sum += Math.exp(li[s]! - maxLi);
    const value = maxLi + Math.log(sum) - Math.log(S);
    if (!withGrad) return { value };
    // G_s = softmax(li)_s * dli_s; grad = sum_s G_s dy_s/dx with dy_s = dmu + sum_j zF_sj da_j + z'_s dc.
    let gMu = 0;
    let gC = 0;
    const gA = new Float64Array(k);
    for (let s = 0; s < S; s++) {
      const G = (Math.exp(li[s]! - maxLi) / sum) * dli[s]!;
      gMu += G;
      gC += G * this.zNew[s]!;
      for (let j = 0; j < k; j++) gA[j] += G * this.zF[s * k + j]!;
    }
    const dk = kg.dk!;
    const alphaGrad = gp.meanGradFromDk(dk);
    // u = K^-1 k(X, x): d var / dx = -2 dk^T u.
    const u = gp.solveLT(v);
    const grad = new Float64Array(d);
    // dSigma_F(x)_j / dx = dk(x, x_j)/dx - dk^T w_j;  da = L_F^-1 dSigma_F(x), applied as (L_F^-T gA)^T dSigma.
    // Chain through a and c: d value = gMu dmu + gA . da + gC dc, dc = (dvar - 2 a . da) / (2 c).
    const cActive = c2raw > cFloor;
    const coefA = Float64Array.from(gA);
    if (cActive) for (let j = 0; j < k; j++) coefA[j] -= (gC / c) * a[j]!;
    // Back-substitute: coefA^T L_F^-1 = (L_F^-T coefA)^T.
    const r = new Float64Array(k);
    for (let i = k - 1; i >= 0; i--) {
      let s = coefA[i]!;
      for (let t = i + 1; t < k; t++) s -= this.LF[t * k + i]! * r[t]!;
      r[i] = s / this.LF[i * k + i]!;
    }
    for (let jd = 0; jd < d; jd++) {
      let dVar = 0;
      for (let t = 0; t < n; t++) dVar -= 2 * dk[t * d + jd]! * u[t]!;
      let g = gMu * alphaGrad[jd]! + (cActive ? (gC / (2 * c)) * dVar : 0);
      for (let j = 0; j < k; j++) {
        let dSig = pairs[j]!.grad[jd]!;
        const wj = this.wF[j]!;
        for (let t = 0; t < n; t++) dSig -= dk[t * d + jd]! * wj[t]!;
        g += r[j]! * dSig;
      }
      grad[jd] = g;
    }
    return { value, grad };
  }
}
