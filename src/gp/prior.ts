// Weak priors on GP hyperparameters (log-space), with gradients, so the likelihood fit stays sane on a handful of points.
//
// Lengthscales: log l ~ Normal(sqrt2 + log(d)/2, sqrt3), the dimension-scaled prior of Hvarfner et al. (2024)
// that BoTorch adopted: in higher dimension it expects smoother functions, which keeps a 6-D fit on 10 points
// from collapsing to tiny lengthscales. Signal variance of standardized outputs: log s2 ~ Normal(0, 1.5).
// Noise variance: Gamma(1.1, rate 30) as in Optuna's prior.py: mean ~0.04, nearly flat near zero so
// noiseless objectives can still drive it down to the floor.

export interface LogPrior {
  value: number;
  /** Gradient w.r.t. theta = [log l_1..log l_d, log s2, log noise]. */
  grad: Float64Array;
}

export function logPrior(theta: Float64Array, d: number): LogPrior {
  const grad = new Float64Array(d + 2);
  let value = 0;
  const muL = Math.SQRT2 + 0.5 * Math.log(d);
  const varL = 3;
  for (let k = 0; k < d; k++) {
    const z = theta[k]! - muL;
    value -= (z * z) / (2 * varL);
    grad[k] = -z / varL;
  }
  const varS = 1.5 * 1.5;
  const s = theta[d]!;
  value -= (s * s) / (2 * varS);
  grad[d] = -s / varS;
  // Gamma(a, b) density on noise v = exp(eta), written as a density on eta (Jacobian included): a*eta - b*v.
  const a = 1.1;
  const b = 30;
  const eta = theta[d + 1]!;
  const v = Math.exp(eta);
  value += a * eta - b * v;
  grad[d + 1] = a - b * v;
  return { value, grad };
}
