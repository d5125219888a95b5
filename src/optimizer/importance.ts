// Parameter importance of a fitted model: total-order Sobol indices of its posterior mean, keyed by parameter name, or why there are none (a flat model).
import { MEAN_BASELINE_LPD } from '../gp/fit.js';
import { totalSobolImportance, type SobolImportance } from '../gp/importance.js';
import { mixSeed } from '../gp/rng.js';
import type { Model } from './model.js';
import type { EncodedSpace } from './space.js';
import type { Importance } from './types.js';

/**
 * The model is flat, and its shares meaningless, when its posterior mean varies over the search space by less than
 * this fraction of the variance of the values it was fitted to (on the GP's standardized scale, where that variance
 * is 1 unless every value is equal): it then reads 99% or more of the observed differences as noise, and shares
 * would only rank that noise. Measured (5 parameters, seed 11, 12 and 40 trials): equal values 0; one active
 * parameter 0.84 to 1.2, with noise of half its size 0.19 to 0.85; a weak effect under unit noise 0.007 (GP, 40
 * trials). The threshold sits 18x below the smallest real effect seen. Pure noise on few trials, which a GP may fit
 * as signal (0.03 to 0.5), is caught only when the model also predicts the trials, left out one at a time, worse than
 * their mean does (FitDiagnostics.looLpd under MEAN_BASELINE_LPD; the fit then fell back to the safe prior): measured
 * on 7 parameters, 8 seeds of Gaussian noise, 3 of 8 at 20 trials and 4 of 8 at 40 (2 of them by the 1% rule). One
 * active parameter of 5, alone or under noise of half its size, was never caught (5 seeds, 8 to 40 trials); the weak
 * effect under unit noise was, on 2 of 5 seeds at 40 trials beyond the 1% rule's: the model cannot predict it either.
 * Where it fires on a real effect (sin(6a) under unit noise, 3 of 18 runs at 12-40 trials), the shares it withholds
 * gave the active parameter 0.14-0.31 of 5: no better than chance.
 * Values that differ only in their last digits, which standardization blows up to unit variance, are not caught.
 */
export const FLAT_VARIANCE = 1e-2;

/**
 * Computed on the warped, standardized scale the GP is fitted on: a monotone warp keeps which parameter moves
 * the objective, and a tail of huge bad values cannot claim all the variance for the parameter that causes it.
 */
export function modelImportance(space: EncodedSpace, model: Model, seed: number): Importance {
  // ~9,000 posterior means: computed once per fitted model (the optimizers refit only when observations change),
  // so a dashboard polling the importance does not redo it while the study's asks wait.
  const bySeed = computed.get(model) ?? new Map<number, SobolImportance>();
  computed.set(model, bySeed);
  let st = bySeed.get(seed);
  if (!st) {
    st = totalSobolImportance((x) => model.gp.predictMean(x), space.dims, { seed: mixSeed(seed, 0x1a9) });
    bySeed.set(seed, st);
  }
  const observed = variance(model.gp.y);
  const explained = observed > 0 ? st.variance / observed : 0;
  const shares = st.shares;
  if (!shares || !(explained >= FLAT_VARIANCE)) {
    const why = observed > 0
      ? `its posterior mean varies over the search space by ${fraction(explained)} of the finished trials' variance (under ${fraction(FLAT_VARIANCE)}: their differences look like noise)`
      : 'every finished trial has the same value';
    return { status: 'flat', explained, reason: `the model sees no variation: ${why}` };
  }
  if (!(model.diagnostics.looLpd >= MEAN_BASELINE_LPD)) {
    return {
      status: 'flat',
      explained,
      reason: 'the model sees no variation it can predict: left out one at a time, the finished trials are predicted worse than by their mean (their differences look like noise)',
    };
  }
  return { status: 'available', explained, shares: Object.fromEntries(space.names.map((name, j) => [name, shares[j]!])) };
}

function variance(y: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < y.length; i++) m += y[i]!;
  m /= y.length;
  let v = 0;
  for (let i = 0; i < y.length; i++) v += (y[i]! - m) ** 2;
  return y.length ? v / y.length : 0;
}

const fraction = (f: number) => (f >= 0.01 ? `${(100 * f).toFixed(0)}%` : `${Number((100 * f).toPrecision(1))}%`);

const computed = new WeakMap<Model, Map<number, SobolImportance>>();
