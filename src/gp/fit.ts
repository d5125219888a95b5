// Hyperparameter fit of the GP: MAP from several starts, then a check for degenerate fits with a safe prior-based fallback.
//
// A MAP fit can be "successful" and still useless: every lengthscale pinned at its lower bound (white noise
// that interpolates the data and reverts to the mean a hair away from it), the signal variance collapsed, or
// a model whose leave-one-out predictions are worse than predicting the mean. EI on such a fit chases the
// prior variance at the box corners. Those fits are detected here and replaced by the prior's median
// lengthscales with signal and noise refitted, which is dull but never pathological.
import { GaussianProcess, negLogPosterior, thetaBounds, LS_BOUNDS, SIGNAL_BOUNDS, type GpData } from './gp.js';
import { pairDistances } from './kernel.js';
import { minimizeBox } from './lbfgsb.js';
import { ADDITIVE_LOGIT_MEAN, ADDITIVE_LOGIT_SD, lengthscalePriorMean, LS_LOG_SD } from './prior.js';
import type { Rng } from './rng.js';

export interface FitOptions {
  rng: Rng;
  /** Previous fit's theta: the first start, since hyperparameters move little between asks. */
  warm?: Float64Array | null;
  /** Number of starts (warm, prior mode, then random); default 3 up to 60 points, then 1 (the warm start if given, else the prior mode). */
  starts?: number;
  maxIter?: number;
  /** Skip the degeneracy check and fallback (ablation in `bench bo`). */
  noFallback?: boolean;
  /** Fit the additive kernel weight too (default true); false = plain product Matérn (ablation). */
  additive?: boolean;
  /**
   * Rows the hyperparameters are fitted on (default: all). Each likelihood evaluation is O(n^3) and a fit takes
   * tens of them, while conditioning on more rows is one O(n^3) factorization: large models fit on a subset.
   */
  fitRows?: number[];
}

export type DegeneracyReason = 'lengthscale-at-lower-bound' | 'signal-collapsed' | 'loo-worse-than-mean';

export interface FitDiagnostics {
  /** Why the MAP fit was judged degenerate (empty: it was used). */
  reasons: DegeneracyReason[];
  /** Mean leave-one-out log predictive density of the fit that was used, per point, on the standardized outputs. */
  looLpd: number;
  /** True when the safe fallback replaced the MAP fit. */
  fallback: boolean;
}

export interface FitResult {
  theta: Float64Array;
  gp: GaussianProcess;
  diagnostics: FitDiagnostics;
}

/** LOO log density of standardized data under N(0, 1): the "predict the mean" baseline a fit must beat. */
export const MEAN_BASELINE_LPD = -0.5 * Math.log(2 * Math.PI * Math.E);

/** The prior's mode: median lengthscales for this dimension, unit signal, small noise, the prior's additive weight. */
export function defaultTheta(d: number, additive = true): Float64Array {
  const t = new Float64Array(d + (additive ? 3 : 2));
  t.fill(lengthscalePriorMean(d), 0, d);
  t[d] = 0;
  t[d + 1] = Math.log(1e-3);
  if (additive) t[d + 2] = ADDITIVE_LOGIT_MEAN;
  return t;
}

type Objective = (theta: Float64Array) => { value: number; grad: Float64Array };

function objective(data: GpData): Objective {
  const pd = pairDistances(data.X, data.n, data.d, data.categorical);
  return (theta) => {
    try {
      return negLogPosterior(data, theta, pd);
    } catch {
      return { value: Infinity, grad: new Float64Array(data.d + 2) };
    }
  };
}

/** MAP hyperparameters from several starts (warm, prior mode, random draws from the prior); the best theta found. */
export function fitTheta(data: GpData, opts: FitOptions): Float64Array {
  const { d } = data;
  const additive = opts.additive ?? true;
  const size = d + (additive ? 3 : 2);
  const f = objective(data);
  const { lower, upper } = thetaBounds(d, additive);
  const starts: Float64Array[] = [];
  const warm = opts.warm && opts.warm.length === size ? Float64Array.from(opts.warm) : null;
  if (warm) starts.push(warm);
  starts.push(defaultTheta(d, additive));
  // Every start costs ~30 likelihood evaluations of O(n^3). The likelihood is most multimodal with few points,
  // where starts are cheap, so up to 60 points (every `bench bo` run) three starts search it. Past that one start
  // (Optuna's GP sampler does the same): the previous fit's hyperparameters barely move when a point is added,
  // a rebuilt optimizer starts from the prior's mode, and the degeneracy check below catches a bad optimum.
  // More starts there would miss the latency target (an ask under half of scikit-learn's fit at 100 points).
  const budget = opts.starts ?? (data.n <= 60 ? 3 : 1);
  const mu = lengthscalePriorMean(d);
  while (starts.length < budget) {
    const t = defaultTheta(d, additive);
    for (let k = 0; k < d; k++) t[k] = mu + LS_LOG_SD * opts.rng.normal();
    t[d] = opts.rng.normal() * 0.5;
    t[d + 1] = Math.log(1e-5) + opts.rng.uniform() * (Math.log(1e-1) - Math.log(1e-5));
    if (additive) t[d + 2] = ADDITIVE_LOGIT_MEAN + ADDITIVE_LOGIT_SD * opts.rng.normal();
    starts.push(t);
  }
  starts.length = Math.min(starts.length, budget);
  let best: Float64Array | null = null;
  let bestValue = Infinity;
  for (let s = 0; s < starts.length; s++) {
    // A warm start begins near the optimum and the next ask continues from wherever it stops, so past 100
    // points it gets a short leash (each iteration is O(n^3)); cold starts run to convergence.
    const maxIter = opts.maxIter ?? (warm && s === 0 && data.n > 100 ? 15 : 80);
    const r = minimizeBox(f, starts[s]!, { lower, upper, maxIter, gtol: 1e-3, ftol: 1e-7 });
    if (r.value < bestValue) {
      bestValue = r.value;
      best = r.x;
    }
  }
  return best ?? defaultTheta(d, additive);
}

/** What is wrong with a fit, if anything (see the file header). */
export function degeneracy(theta: Float64Array, categorical: Uint8Array, looLpd: number): DegeneracyReason[] {
  const d = categorical.length;
  const reasons: DegeneracyReason[] = [];
  const lsFloor = Math.log(LS_BOUNDS[0]) + 0.05;
  // A categorical with a tiny lengthscale just means unrelated choices; only continuous dims can be "white noise".
  for (let k = 0; k < d; k++) {
    if (!categorical[k] && theta[k]! <= lsFloor) {
      reasons.push('lengthscale-at-lower-bound');
      break;
    }
  }
  if (theta[d]! <= Math.log(SIGNAL_BOUNDS[0]) + 0.05) reasons.push('signal-collapsed');
  if (!(looLpd >= MEAN_BASELINE_LPD)) reasons.push('loo-worse-than-mean');
  return reasons;
}

/** The fallback: lengthscales (and the additive weight) fixed at the prior's median, signal and noise fitted (a 2-parameter MAP). */
export function safeTheta(data: GpData, additive = true): Float64Array {
  const { d } = data;
  const t0 = defaultTheta(d, additive);
  const { lower, upper } = thetaBounds(d, additive);
  for (let k = 0; k < d; k++) lower[k] = upper[k] = t0[k]!;
  if (additive) lower[d + 2] = upper[d + 2] = t0[d + 2]!;
  return minimizeBox(objective(data), t0, { lower, upper, maxIter: 40, gtol: 1e-4, ftol: 1e-8 }).x;
}

/** The rows `rows` of `data`. */
export function subsetData(data: GpData, rows: number[]): GpData {
  const { d } = data;
  const X = new Float64Array(rows.length * d);
  rows.forEach((r, i) => X.set(data.X.subarray(r * d, (r + 1) * d), i * d));
  return { X, y: Float64Array.from(rows, (r) => data.y[r]!), n: rows.length, d, categorical: data.categorical };
}

/**
 * At most `maxRows` of the rows, spread over the space and kept in their order (all of them, as is, when there are no
 * more): from a seeded first row, each next one is the row farthest from those taken (squared distance on the unit
 * box, 1 per differing category). An optimizer's history crowds around its best, where the objective barely moves;
 * a uniform sample of 100 of a converged study's 300 trials kept few of the early, spread ones that show each
 * parameter's effect, and a dimension's support (support.ts) swung from 0.05 to 3.9 nats with the sample's seed.
 * Chosen by the inputs alone, never the values, so a permutation test or likelihood ratio on them stays valid.
 */
export function sampleRows(data: GpData, maxRows: number, rng: Rng): GpData {
  const { n, d, X, categorical } = data;
  if (n <= maxRows) return data;
  const nearest = new Float64Array(n).fill(Infinity);
  const taken: number[] = [];
  let next = rng.int(n);
  while (taken.length < maxRows) {
    taken.push(next);
    nearest[next] = -1;
    let far = -1;
    for (let i = 0; i < n; i++) {
      if (nearest[i]! < 0) continue;
      let dist = 0;
      for (let k = 0; k < d; k++) {
        const a = X[i * d + k]!;
        const b = X[next * d + k]!;
        dist += categorical[k] ? (a === b ? 0 : 1) : (a - b) ** 2;
      }
      if (dist < nearest[i]!) nearest[i] = dist;
      if (far < 0 || nearest[i]! > nearest[far]!) far = i;
    }
    next = far;
  }
  return subsetData(data, taken.sort((a, b) => a - b));
}

/** MAP fit (on `fitRows` when given), checked; falls back to `safeTheta` when the fit is degenerate. The GP conditions on all of `data`. */
export function fitGp(data: GpData, opts: FitOptions): FitResult {
  const fitData = opts.fitRows ? subsetData(data, opts.fitRows) : data;
  const theta = fitTheta(fitData, opts);
  const gp = GaussianProcess.create(data, theta);
  const looLpd = gp.looLogPredictive();
  const reasons = opts.noFallback ? [] : degeneracy(theta, data.categorical, looLpd);
  if (reasons.length === 0) return { theta, gp, diagnostics: { reasons, looLpd, fallback: false } };
  const safe = safeTheta(fitData, opts.additive ?? true);
  const safeGp = GaussianProcess.create(data, safe);
  return { theta: safe, gp: safeGp, diagnostics: { reasons, looLpd: safeGp.looLogPredictive(), fallback: true } };
}
