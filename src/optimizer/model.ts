// Turns observations into a fitted GP: failures imputed, outputs warped, a bounded subset past `maxPoints`, MAP fit with the degeneracy fallback.
//
// Cost at large n: the GP is conditioned on at most `maxPoints` observations (default 500): the best quarter
// of them by value (where the next suggestions will be) plus a seeded uniform sample of the rest (the global
// shape), and its hyperparameters are fitted on at most FIT_POINTS of those, picked the same way. Everything
// else an ask does is O(n) or O(n log n) in the history, so a 100,000-trial study asks about as fast as a
// 500-trial one. `bench bo` measures what the subset costs in regret.
import { fitGp, type FitDiagnostics } from '../gp/fit.js';
import { GaussianProcess, type GpData } from '../gp/gp.js';
import { Rng, mixSeed } from '../gp/rng.js';
import type { Tails } from '../gp/tails.js';
import { OutputWarp } from '../gp/warp.js';
import type { EncodedObservation } from './ledger.js';
import type { EncodedSpace } from './space.js';
import type { Direction } from './types.js';

export const DEFAULT_MAX_MODEL_POINTS = 500;
/** Hyperparameters are fitted on at most this many of the model's points (chosen the same way), see FitOptions.fitRows. */
export const FIT_POINTS = 300;

export interface ModelOptions {
  seed: number;
  /** Previous fit's hyperparameters (warm start), or null. */
  warm: Float64Array | null;
  maxPoints: number;
  /** Yeo-Johnson output warp (default on); off = plain standardization (ablation). */
  warp: boolean;
  /** Compress far outliers before the warp (gp/tails.ts; default on), or compress with the Tails given (or none: null). */
  tails?: boolean | Tails | null;
  /** Fit the additive kernel term's weight (default true); false = plain product Matérn (ablation). */
  additive?: boolean;
  /** Skip the degenerate-fit fallback (ablation). */
  noFallback?: boolean;
}

/** A GP fitted to observations, with the map back to the objective's units. */
export interface Model {
  gp: GaussianProcess;
  warp: OutputWarp;
  /** objective = sign * raw, where raw is minimized. */
  sign: number;
  theta: Float64Array;
  diagnostics: FitDiagnostics;
  /** Indices (into the observations it was built from) of the points the GP is conditioned on. */
  used: number[];
  /** Lowest posterior mean (warped units) over the used points with a finite value: the EI incumbent. */
  incumbent: number;
  /** Index (into the observations) of that point. */
  incumbentIndex: number;
}

/** Observation values to minimize; failures (null) sit just beyond the worst value seen. */
export function rawValues(obs: readonly EncodedObservation[], direction: Direction): { raw: Float64Array; finite: Uint8Array } {
  const sign = direction === 'maximize' ? -1 : 1;
  let lo = Infinity;
  let hi = -Infinity;
  for (const o of obs) {
    if (o.value === null) continue;
    lo = Math.min(lo, sign * o.value);
    hi = Math.max(hi, sign * o.value);
  }
  // Slightly worse than the worst seen (5% of the observed range): bad enough to steer away, close enough
  // that a run of failures does not turn the standardized scale into "failures vs everything else".
  let imputed = hi + 0.05 * (hi - lo);
  // A value near Number.MAX_VALUE (a diverged run told as the largest float) overflows that sum, and one infinity
  // makes the GP's mean NaN everywhere: take 5% of each end apart (neither can overflow), and stop at the largest double.
  if (!Number.isFinite(imputed) && Number.isFinite(hi)) imputed = Math.min(hi + (0.05 * hi - 0.05 * lo), Number.MAX_VALUE);
  const raw = Float64Array.from(obs, (o) => (o.value === null ? imputed : sign * o.value));
  const finite = Uint8Array.from(obs, (o) => (o.value === null ? 0 : 1));
  return { raw, finite };
}

/** Which observations the GP is conditioned on: all of them up to maxPoints, else the best quarter plus a seeded sample. */
export function modelSubset(raw: Float64Array, maxPoints: number, seed: number): number[] {
  const n = raw.length;
  if (n <= maxPoints) return Array.from({ length: n }, (_, i) => i);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => raw[a]! - raw[b]! || a - b);
  const top = Math.floor(maxPoints / 4);
  const chosen = order.slice(0, top);
  const rest = order.slice(top);
  // Partial Fisher-Yates: a uniform sample of the rest, reproducible from (seed, n).
  const rng = new Rng(seed, mixSeed(n, 0x5b5e7));
  for (let i = 0; i < maxPoints - top; i++) {
    const j = i + rng.int(rest.length - i);
    [rest[i], rest[j]] = [rest[j]!, rest[i]!];
    chosen.push(rest[i]!);
  }
  return chosen.sort((a, b) => a - b);
}

export function buildModel(space: EncodedSpace, obs: readonly EncodedObservation[], direction: Direction, opts: ModelOptions): Model {
  const { raw, finite } = rawValues(obs, direction);
  const used = modelSubset(raw, opts.maxPoints, opts.seed);
  const d = space.d;
  const usedRaw = Float64Array.from(used, (i) => raw[i]!);
  const warp = opts.warp ? OutputWarp.fit(usedRaw, { tails: opts.tails ?? true }) : OutputWarp.standardize(usedRaw);
  const X = new Float64Array(used.length * d);
  used.forEach((i, r) => X.set(obs[i]!.x, r * d));
  const y = Float64Array.from(usedRaw, (v) => warp.forward(v));
  const data: GpData = { X, y, n: used.length, d, categorical: space.categorical };
  const fitRows = used.length > FIT_POINTS ? modelSubset(usedRaw, FIT_POINTS, mixSeed(opts.seed, 0xf1)) : undefined;
  const fit = fitGp(data, {
    rng: new Rng(opts.seed, mixSeed(obs.length, 0xf17)), warm: opts.warm, noFallback: opts.noFallback ?? false, additive: opts.additive ?? true, ...(fitRows ? { fitRows } : {}),
  });
  let incumbent = Infinity;
  let incumbentIndex = used[0]!;
  for (const i of used) {
    if (!finite[i]) continue;
    const m = fit.gp.predictMean(obs[i]!.x);
    if (m < incumbent) {
      incumbent = m;
      incumbentIndex = i;
    }
  }
  return { gp: fit.gp, warp, sign: direction === 'maximize' ? -1 : 1, theta: fit.theta, diagnostics: fit.diagnostics, used, incumbent, incumbentIndex };
}

/** Posterior of the latent objective at a point, in the objective's own units (mean and sd through the warp). */
export function objectiveMoments(model: Model, mean: number, variance: number): { mean: number; sd: number } {
  const m = model.warp.moments(mean, variance);
  return { mean: model.sign * m.mean, sd: m.sd };
}
