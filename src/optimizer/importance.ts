// Parameter importance of a fitted model: total-order Sobol indices of its posterior mean, keyed by parameter name, or why there are none (a flat model).
import { MEAN_BASELINE_LPD } from '../gp/fit.js';
import type { GpData } from '../gp/gp.js';
import { totalSobolImportance } from '../gp/importance.js';
import { mixSeed } from '../gp/rng.js';
import { signalTest } from '../gp/signal_test.js';
import { dimensionSupport } from '../gp/support.js';
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
 * Shares are withheld unless the model fits the finished trials better than it fits the same values shuffled among
 * them, in all but one of 19 shuffles (gp/signal_test.ts: p <= 0.1). Measured on this file's 7 parameters (the
 * importance test's space), 8 seeds of pure noise at 20 and 40 trials: the two rules above caught 7 of the 16 runs,
 * with this one 15. A weak effect under unit noise (0.5 sin on one parameter; 5 seeds at 20 and 40 trials), whose
 * shares gave the active parameter 0 to 0.3 where chance is 0.14: 2 of 10 caught before, 10 of 10 now. Real effects
 * (one parameter noiseless or under noise of half its size at 12 and 40 trials, three parameters at 12 and 20; 30
 * runs) kept their shares on 28; the two withheld were the three-parameter objective at 12 trials, one with good
 * shares (0.98 on the active three) and one with poor ones (0.33). With 8 points in 5 dimensions a plain quadratic
 * can fail it too: importance then waits for a few more trials.
 */
export const SIGNAL_P = 0.1;

/** A share at least this large claims that the parameter matters (the bar for an inert one is under 0.05). */
export const CLAIM_SHARE = 0.05;

/**
 * A parameter that claims a share is *tentative* unless the trials need it: fitted without it, the model must lose at
 * least this much log evidence (gp/support.ts; 1 nat, a likelihood ratio of e: 2 x 1 is about a chi-squared p of 0.16
 * for an inert one). Measured on this file's 7 parameters (8 objectives: one, two or three active parameters,
 * noiseless or noisy, smooth or wiggly; 8 seeds each at 12, 16, 20 and 40 trials; 345 claimed shares): of the 62
 * shares claimed by inert parameters it marked 47 (79% of their share mass; at 12 trials a wiggly effect on lr was
 * credited to a 4-way categorical at 0.94-0.99 on 5 of 8 seeds, every one marked). Of the 283 claimed by active
 * parameters it marked 21, 18 of them at 12 or 16 trials, none at 40. On `bench bo`'s branin_10d and hartmann6_12d
 * (the GP's own histories, seeds 0-9, at 20, 40 and 60 evaluations): 6 of the 7 shares inert dimensions claimed
 * marked, 1 of the 144 active ones'.
 */
export const SUPPORT_NATS = 1;

/**
 * Importance costs 20-30 small fits, run in the optimizer's thread, where the study's asks wait behind it: 1.3-1.7 s
 * from 100 trials on with 3 parameters claiming shares (the signal test 0.83-0.99 s, the support refits 0.14-0.25 s
 * per claiming parameter; measured at 100, 200 and 400 trials in 7-D), once per new model, and
 * a study whose dashboard is open asks for it every 10 s. Past this many observations a result is therefore kept
 * until RECOMPUTE_GROWTH more of them (a share of those it was computed from) have come in; below it, where a
 * computation costs under 0.3 s and each trial can change the picture, every new model gets its own.
 */
export const RECOMPUTE_FROM = 60;
export const RECOMPUTE_GROWTH = 0.1;

/** The last importance an optimizer computed, reused as RECOMPUTE_FROM says; `observations` tells how old it is. */
export class ImportanceMemo {
  private last: Importance | null = null;

  get(observations: number, compute: () => Importance): Importance {
    const last = this.last;
    const same = last?.observations === observations;
    const young = last !== null && last.observations >= RECOMPUTE_FROM && observations > last.observations && observations < last.observations + Math.round(RECOMPUTE_GROWTH * last.observations);
    if (same || young) return last!;
    this.last = compute();
    return this.last;
  }
}

/**
 * Computed on the warped, standardized scale the GP is fitted on: a monotone warp keeps which parameter moves
 * the objective, and a tail of huge bad values cannot claim all the variance for the parameter that causes it.
 */
export function modelImportance(space: EncodedSpace, model: Model, seed: number, observations: number): Importance {
  // ~9,000 posterior means, then 20-30 small fits only where the cheaper rules let shares through: once per
  // ImportanceMemo.get that misses, so a dashboard polling the importance does not redo them.
  const st = totalSobolImportance((x) => model.gp.predictMean(x), space.dims, { seed: mixSeed(seed, 0x1a9) });
  const observed = variance(model.gp.y);
  const explained = observed > 0 ? st.variance / observed : 0;
  const shares = st.shares;
  if (!shares || !(explained >= FLAT_VARIANCE)) {
    const why = observed > 0
      ? `its posterior mean varies over the search space by ${fraction(explained)} of the finished trials' variance (under ${fraction(FLAT_VARIANCE)}: their differences look like noise)`
      : 'every finished trial has the same value';
    return { status: 'flat', explained, observations, reason: `the model sees no variation: ${why}` };
  }
  if (!(model.diagnostics.looLpd >= MEAN_BASELINE_LPD)) {
    return {
      status: 'flat',
      explained,
      observations,
      reason: 'the model sees no variation it can predict: left out one at a time, the finished trials are predicted worse than by their mean (their differences look like noise)',
    };
  }
  const { p, asGood, permutations } = signalTest(gpData(model), { seed: mixSeed(seed, 0x5e7) });
  if (p > SIGNAL_P) {
    return {
      status: 'flat',
      explained,
      observations,
      reason: `the model sees no variation it can tell from noise: it fits the finished trials no better than the same values shuffled among them (${asGood} of ${permutations} shuffles fit as well, p = ${p.toFixed(2)})`,
    };
  }
  const claimed = space.names.map((_, j) => j).filter((j) => shares[j]! >= CLAIM_SHARE);
  const support = dimensionSupport(gpData(model), model.theta, claimed, { seed: mixSeed(seed, 0x5a9) });
  return {
    status: 'available',
    explained,
    observations,
    shares: Object.fromEntries(space.names.map((name, j) => [name, shares[j]!])),
    tentative: claimed.filter((_, i) => !(support[i]! >= SUPPORT_NATS)).map((j) => space.names[j]!),
  };
}

/** The points the model was fitted to, without the rest of the GP. */
function gpData(model: Model): GpData {
  return { X: model.gp.X, y: model.gp.y, n: model.gp.n, d: model.gp.d, categorical: model.gp.categorical };
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
