// Standard-normal functions accurate far into the tails: erf/erfc, Phi, and log h(z) = log(phi(z) + z Phi(z)) for LogEI.
//
// Far below the incumbent (z << 0) h(z) is a difference of two nearly equal numbers and underflows to 0 in
// the naive formula, which makes EI flat and gives the optimizer no gradient. BoTorch's LogEI handles this
// with erfcx; here the same asymptotic regime uses the Mills-ratio continued fraction instead, written so
// that 1 - t R(t) = q / (t + q) never cancels.

const SQRT_PI = Math.sqrt(Math.PI);
const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
const TAIL = 3; // below z = -3 the continued fraction is used (it converges fast there, and cancellation starts)

/** erf(x) for |x| < 3 by the all-positive series erf(x) = 2/sqrt(pi) e^-x^2 sum 2^n x^(2n+1) / (2n+1)!!. */
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 0; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 3);
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return (2 / SQRT_PI) * Math.exp(-x2) * sum;
}

/** erfc(x) for x >= 2.5 by the continued fraction erfc(x) = e^-x^2 / sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))). */
function erfcFraction(x: number): number {
  let f = x;
  for (let k = 120; k >= 1; k--) f = x + k / 2 / f;
  return Math.exp(-x * x) / (SQRT_PI * f);
}

export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return -erf(-x);
  return x < 2.5 ? erfSeries(x) : 1 - erfcFraction(x);
}

export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 2 - erfc(-x);
  return x < 2.5 ? 1 - erfSeries(x) : erfcFraction(x);
}

export function normPdf(z: number): number {
  return Math.exp(-0.5 * z * z - LOG_SQRT_2PI);
}

export function normCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/** q(t) = 1/(t + 2/(t + 3/(t + ...))) for t >= 3, so that the Mills ratio is R(t) = Phi(-t)/phi(t) = 1/(t + q). */
function millsTail(t: number): number {
  let f = t;
  for (let k = 200; k >= 2; k--) f = t + k / f;
  return 1 / f;
}

/** log h(z) and its derivative d log h / dz = Phi(z) / h(z), for every finite z. */
export function logH(z: number): { value: number; dz: number } {
  if (z > -TAIL) {
    const cdf = normCdf(z);
    const h = normPdf(z) + z * cdf;
    return { value: Math.log(h), dz: cdf / h };
  }
  const t = -z;
  const q = millsTail(t);
  // h = phi(t) * q / (t + q); Phi(z) / h = 1 / q.
  return { value: -0.5 * t * t - LOG_SQRT_2PI + Math.log(q) - Math.log(t + q), dz: 1 / q };
}

/** log Phi(z) and d log Phi / dz = phi(z) / Phi(z), stable for very negative z. */
export function logNormCdf(z: number): { value: number; dz: number } {
  if (z > -TAIL) {
    const cdf = normCdf(z);
    const value = z > 0 ? Math.log1p(-0.5 * erfc(z / Math.SQRT2)) : Math.log(cdf);
    return { value, dz: normPdf(z) / cdf };
  }
  const t = -z;
  const q = millsTail(t);
  // Phi(-t) = phi(t) R(t) = phi(t) / (t + q)
  return { value: -0.5 * t * t - LOG_SQRT_2PI - Math.log(t + q), dz: t + q };
}
