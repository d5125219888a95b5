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

/**
 * Standard-normal quantile Phi^-1(p) for 0 < p < 1: Acklam's rational approximation (relative error 1.2e-9)
 * refined by one Halley step on erfc, which brings it to ~1e-15. Turns QMC uniforms into normal base samples.
 */
export function normQuantile(p: number): number {
  if (!(p > 0 && p < 1)) {
    if (p === 0) return -Infinity;
    if (p === 1) return Infinity;
    return NaN;
  }
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const dd = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const pLow = 0.02425;
  let x: number;
  if (p < pLow) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((dd[0]! * q + dd[1]!) * q + dd[2]!) * q + dd[3]!) * q + 1);
  } else if (p <= 1 - pLow) {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -(((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((dd[0]! * q + dd[1]!) * q + dd[2]!) * q + dd[3]!) * q + 1);
  }
  // Halley step: e = Phi(x) - p, computed from the side where it does not cancel.
  const e = x < 0 ? 0.5 * erfc(-x / Math.SQRT2) - p : p - 1 + 0.5 * erfc(x / Math.SQRT2);
  const u = (x < 0 ? e : -e) * Math.sqrt(2 * Math.PI) * Math.exp(0.5 * x * x);
  return x - u / (1 + 0.5 * x * u);
}
