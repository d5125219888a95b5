// Acquisition functions on a GP posterior (minimization): log expected improvement (default), log probability of improvement, UCB.
import { logH, logNormCdf } from './normal.js';

import type { AcquisitionName } from '../shared/names.js';

export type { AcquisitionName } from '../shared/names.js';

export interface AcquisitionValue {
  /** Higher is better. */
  value: number;
  /** d value / d mean and d value / d variance, for the chain rule through the GP. */
  dMean: number;
  dVariance: number;
}

export interface AcquisitionConfig {
  name: AcquisitionName;
  /** Best (lowest) observed standardized value: the incumbent for EI and PI. */
  best: number;
  /** UCB exploration weight on the standard deviation (default 2). */
  beta?: number;
}

/**
 * log EI(mean, var) = log sigma + log h((best - mean) / sigma). Stays finite and has a useful gradient
 * however far a point is from the incumbent, where log(EI) computed directly is log(0) = -Infinity.
 */
export function logEI(mean: number, variance: number, best: number): AcquisitionValue {
  const sigma = Math.sqrt(variance);
  const z = (best - mean) / sigma;
  const h = logH(z);
  return { value: Math.log(sigma) + h.value, dMean: -h.dz / sigma, dVariance: (1 - h.dz * z) / (2 * variance) };
}

/** log PI = log Phi((best - mean) / sigma); the log keeps it comparable far from the incumbent. */
export function logPI(mean: number, variance: number, best: number): AcquisitionValue {
  const sigma = Math.sqrt(variance);
  const z = (best - mean) / sigma;
  const c = logNormCdf(z);
  return { value: c.value, dMean: -c.dz / sigma, dVariance: (-c.dz * z) / (2 * variance) };
}

/** Lower confidence bound for minimization, negated so that higher is better: -(mean - beta sigma). */
export function ucb(mean: number, variance: number, beta: number): AcquisitionValue {
  const sigma = Math.sqrt(variance);
  return { value: -mean + beta * sigma, dMean: -1, dVariance: beta / (2 * sigma) };
}

export function acquisition(cfg: AcquisitionConfig, mean: number, variance: number): AcquisitionValue {
  switch (cfg.name) {
    case 'logei':
      return logEI(mean, variance, cfg.best);
    case 'pi':
      return logPI(mean, variance, cfg.best);
    case 'ucb':
      return ucb(mean, variance, cfg.beta ?? 2);
  }
}
