// Does the data need each dimension? The evidence a GP loses when one dimension is taken away and it is fitted again.
//
// With few points in several dimensions a fitted GP can credit a dimension that does nothing: a 4-way categorical
// splits 12 points into groups whose means soak up an effect of another dimension, and the fit that found it first
// keeps it. Its importance share then reads 0.95 for a parameter that is inert. The same points fitted without that
// dimension show whether it was needed: a model without it that explains them as well (or better: the other
// explanation) gains nothing from it. The models are nested (an infinite lengthscale removes a dimension), so the
// loss is a likelihood ratio: twice it is about chi-squared with one degree of freedom when the dimension is inert.
//
// Every fit here starts from the prior's mode and from the fitted model's own hyperparameters (with the dimension's
// lengthscale removed), so the smaller model is not judged on a worse optimum than the larger one found.
import { fitTheta, sampleRows } from './fit.js';
import { logEvidence, type GpData } from './gp.js';
import { Rng } from './rng.js';

export interface SupportOptions {
  seed: number;
  /** Points used, a seeded sample beyond (default 100): each refit is O(n^3) per likelihood evaluation. */
  maxRows?: number;
}

/**
 * For each dimension in `dims`: the log evidence (nats) the model fitted to `data` loses when that dimension is
 * dropped and the rest refitted, never below 0. A dimension that is the only one is always needed (Infinity).
 * `theta` is the fitted model's hyperparameters (lengthscales first, one per dimension).
 */
export function dimensionSupport(data: GpData, theta: Float64Array, dims: readonly number[], opts: SupportOptions): number[] {
  if (data.d < 2) return dims.map(() => Infinity);
  const rng = new Rng(opts.seed, 0x5a9);
  const sample = sampleRows(data, opts.maxRows ?? 100, rng);
  // The larger model's best fit on these rows: its own theta (fitted on all of them) or a refit from it.
  const full = Math.max(logEvidence(sample, theta), logEvidence(sample, fitTheta(sample, { rng, warm: theta, starts: 2 })));
  return dims.map((j) => {
    const without = dropDimension(sample, j);
    const warm = Float64Array.from(theta.filter((_, k) => k !== j));
    const reduced = logEvidence(without, fitTheta(without, { rng, warm, starts: 2 }));
    // A failed fit (non-finite) leaves the dimension unproven: 0, as when the smaller model does as well.
    return Number.isFinite(full) && Number.isFinite(reduced) ? Math.max(0, full - reduced) : 0;
  });
}

/** The same points without column `j`. */
export function dropDimension(data: GpData, j: number): GpData {
  const d = data.d - 1;
  const X = new Float64Array(data.n * d);
  for (let i = 0; i < data.n; i++) {
    let c = 0;
    for (let k = 0; k < data.d; k++) if (k !== j) X[i * d + c++] = data.X[i * data.d + k]!;
  }
  return { X, y: data.y, n: data.n, d, categorical: data.categorical.filter((_, k) => k !== j) };
}
