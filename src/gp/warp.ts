// Output warping before the GP fit: standardize, Yeo-Johnson power transform with lambda fitted by maximum likelihood, standardize again (as HEBO does).
//
// Why: objectives with a long tail of bad values (a quartic reaching +600 where the good region sits near -200)
// make a GP on standardized values spend its lengthscales explaining the tail; the fit then collapses and EI
// chases uncertainty at the box corners. The warp is monotone increasing, so "lower is better" and the
// incumbent are unchanged, and it is invertible, so predictions map back to the objective's units.
//
//   z   = (y - m1) / s1                  standardized raw values
//   psi = YJ_lambda(z)                   Yeo-Johnson (1 at lambda = 1: identity)
//   w   = (psi - m2) / s2                what the GP is fitted to

import { Tails } from './tails.js';

/** Lambda is searched in this range: wide enough for heavy tails either side, narrow enough to stay invertible in practice. */
export const LAMBDA_RANGE = [-2, 2] as const;

function yj(z: number, lambda: number): number {
  if (z >= 0) return Math.abs(lambda) < 1e-12 ? Math.log1p(z) : (Math.pow(z + 1, lambda) - 1) / lambda;
  const q = 2 - lambda;
  return Math.abs(q) < 1e-12 ? -Math.log1p(-z) : -(Math.pow(1 - z, q) - 1) / q;
}

/** Inverse of yj; psi outside the image (possible for lambda < 0 above 1/|lambda|) is clamped just inside it. */
function yjInverse(psi: number, lambda: number): number {
  if (psi >= 0) {
    if (Math.abs(lambda) < 1e-12) return Math.expm1(psi);
    let base = lambda * psi + 1;
    if (base <= 1e-12) base = 1e-12;
    return Math.pow(base, 1 / lambda) - 1;
  }
  const q = 2 - lambda;
  if (Math.abs(q) < 1e-12) return -Math.expm1(-psi);
  let base = 1 - q * psi;
  if (base <= 1e-12) base = 1e-12;
  return 1 - Math.pow(base, 1 / q);
}

function meanStd(v: ArrayLike<number>): { mean: number; std: number } {
  let mean = 0;
  for (let i = 0; i < v.length; i++) mean += v[i]!;
  mean /= v.length;
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (v[i]! - mean) ** 2;
  const variance = s / v.length;
  if (Number.isFinite(mean) && Number.isFinite(variance)) return { mean, std: variance > 1e-24 ? Math.sqrt(variance) : 1 };
  // Past overflow (a diverged run's 1e160 squares to Infinity, which made every standardized value 0 and the
  // inverse NaN): the same in units of the largest magnitude. Only then, so ordinary values keep their exact bits.
  let scale = 0;
  for (let i = 0; i < v.length; i++) scale = Math.max(scale, Math.abs(v[i]!));
  let m = 0;
  for (let i = 0; i < v.length; i++) m += v[i]! / scale;
  m /= v.length;
  let q = 0;
  for (let i = 0; i < v.length; i++) q += (v[i]! / scale - m) ** 2;
  const sd = Math.sqrt(q / v.length);
  return { mean: m * scale, std: sd > 1e-12 ? sd * scale : 1 };
}

/** Profile log likelihood of lambda under a normal model for the transformed values (Yeo & Johnson 2000, eq. 3.1). */
export function yjLogLikelihood(z: ArrayLike<number>, lambda: number): number {
  const n = z.length;
  const psi = new Float64Array(n);
  let jac = 0;
  for (let i = 0; i < n; i++) {
    psi[i] = yj(z[i]!, lambda);
    jac += Math.sign(z[i]!) * Math.log1p(Math.abs(z[i]!));
  }
  const { std } = meanStd(psi);
  return -0.5 * n * Math.log(std * std) + (lambda - 1) * jac;
}

/** Nodes and weights of n-point Gauss-Hermite quadrature (weight e^{-x^2}), by Newton on the Hermite recurrence. */
function gaussHermite(n: number): { x: Float64Array; w: Float64Array } {
  const x = new Float64Array(n);
  const w = new Float64Array(n);
  const pim4 = Math.pow(Math.PI, -0.25);
  let z = 0;
  for (let i = 0; i < (n + 1) >> 1; i++) {
    if (i === 0) z = Math.sqrt(2 * n + 1) - 1.85575 * Math.pow(2 * n + 1, -1 / 6);
    else if (i === 1) z -= (1.14 * Math.pow(n, 0.426)) / z;
    else if (i === 2) z = 1.86 * z - 0.86 * x[0]!;
    else if (i === 3) z = 1.91 * z - 0.91 * x[1]!;
    else z = 2 * z - x[i - 2]!;
    let pp = 0;
    for (let it = 0; it < 100; it++) {
      let p1 = pim4;
      let p2 = 0;
      for (let j = 0; j < n; j++) {
        const p3 = p2;
        p2 = p1;
        p1 = z * Math.sqrt(2 / (j + 1)) * p2 - Math.sqrt(j / (j + 1)) * p3;
      }
      pp = Math.sqrt(2 * n) * p2;
      const z1 = z;
      z = z1 - p1 / pp;
      if (Math.abs(z - z1) <= 1e-14) break;
    }
    x[i] = z;
    x[n - 1 - i] = -z;
    w[i] = 2 / (pp * pp);
    w[n - 1 - i] = w[i]!;
  }
  return { x, w };
}

const GH = gaussHermite(32);

function extent(y: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < y.length; i++) {
    lo = Math.min(lo, y[i]!);
    hi = Math.max(hi, y[i]!);
  }
  return [lo, hi];
}

export class OutputWarp {
  /**
   * Back-transformed values are clamped to the observed range widened by itself on each side. Past that the fitted
   * warp is pure extrapolation, and for lambda < 0 its inverse explodes towards a pole; one stray quadrature node
   * there would otherwise dominate a posterior mean.
   */
  private readonly lo: number;
  private readonly hi: number;

  private constructor(
    readonly m1: number,
    readonly s1: number,
    readonly lambda: number,
    readonly m2: number,
    readonly s2: number,
    range: [number, number],
    /** Compression of far outliers applied before everything else (tails.ts), or null. */
    readonly tails: Tails | null = null,
  ) {
    const width = Math.max(range[1] - range[0], 1e-12 * Math.max(1, Math.abs(range[0])));
    this.lo = range[0] - width;
    this.hi = range[1] + width;
  }

  /** Identity up to standardization (lambda = 1): the plain transform, for comparison and ablation. */
  static standardize(y: ArrayLike<number>): OutputWarp {
    const { mean, std } = meanStd(y);
    return new OutputWarp(mean, std, 1, 0, 1, extent(y));
  }

  /**
   * Fits lambda by maximum likelihood (grid over LAMBDA_RANGE, then golden-section refinement), after compressing
   * far outliers (tails.ts). `tails`: fitted to `raw` (true, the default), none (false: the ablation), or the one
   * given (a Tails or null: a local model takes its global model's, so a study's outliers are judged once, on all of it).
   */
  static fit(raw: ArrayLike<number>, opts: { tails?: boolean | Tails | null } = {}): OutputWarp {
    const tails = opts.tails === undefined || opts.tails === true ? Tails.fit(raw) : opts.tails === false ? null : opts.tails;
    const y = tails ? Float64Array.from(raw, (v) => tails.compress(v)) : raw;
    const { mean: m1, std: s1 } = meanStd(y);
    const z = Float64Array.from(y, (v) => (v - m1) / s1);
    const [lo, hi] = LAMBDA_RANGE;
    let bestL = 1;
    let bestV = yjLogLikelihood(z, 1);
    const steps = 40;
    for (let k = 0; k <= steps; k++) {
      const l = lo + ((hi - lo) * k) / steps;
      const v = yjLogLikelihood(z, l);
      if (v > bestV) {
        bestV = v;
        bestL = l;
      }
    }
    let a = Math.max(lo, bestL - (hi - lo) / steps);
    let b = Math.min(hi, bestL + (hi - lo) / steps);
    const g = (Math.sqrt(5) - 1) / 2;
    for (let it = 0; it < 40; it++) {
      const c = b - g * (b - a);
      const d = a + g * (b - a);
      if (yjLogLikelihood(z, c) > yjLogLikelihood(z, d)) b = d;
      else a = c;
    }
    const mid = (a + b) / 2;
    const lambda = yjLogLikelihood(z, mid) > bestV ? mid : bestL;
    const psi = Float64Array.from(z, (v) => yj(v, lambda));
    const { mean: m2, std: s2 } = meanStd(psi);
    return new OutputWarp(m1, s1, lambda, m2, s2, extent(raw), tails);
  }

  forward(y: number): number {
    const c = this.tails ? this.tails.compress(y) : y;
    return (yj((c - this.m1) / this.s1, this.lambda) - this.m2) / this.s2;
  }

  inverse(w: number): number {
    const c = this.m1 + this.s1 * yjInverse(this.m2 + this.s2 * w, this.lambda);
    const v = this.tails ? this.tails.expand(c) : c;
    return Math.min(this.hi, Math.max(this.lo, v));
  }

  /**
   * inverse(w), read as the fence where it lies past a compressed tail's fence. Undoing the compression there is
   * doubly exponential: a sliver of posterior mass past it would dominate any mean in raw units (a point measured at
   * 0.64, next to diverged 1e30s, was predicted 6.7e19 +- 1.2e25). So a prediction in the bulk is what the bulk says,
   * and one in a diverged region reads as "at least the fence".
   */
  private withinFences(w: number): number {
    const v = this.inverse(w);
    return this.tails ? Math.min(this.tails.upper, Math.max(this.tails.lower, v)) : v;
  }

  /**
   * Mean and standard deviation, in the raw units, of inverse(W) for W ~ N(mean, variance) (32-point Gauss-Hermite):
   * the warp is non-linear, so inverse(mean) is the median, not the mean. Past a compressed tail's fence, the fence.
   */
  moments(mean: number, variance: number): { mean: number; sd: number } {
    if (!(variance > 1e-18)) return { mean: this.withinFences(mean), sd: 0 };
    const sd = Math.sqrt(2 * variance);
    let m = 0;
    let m2 = 0;
    const c = this.withinFences(mean);
    for (let i = 0; i < GH.x.length; i++) {
      // Centred on inverse(mean) so the second moment does not cancel catastrophically.
      const v = this.withinFences(mean + sd * GH.x[i]!) - c;
      const wt = GH.w[i]! / Math.sqrt(Math.PI);
      m += wt * v;
      m2 += wt * v * v;
    }
    return { mean: c + m, sd: Math.sqrt(Math.max(m2 - m * m, 0)) };
  }
}
