// Tail compression before the output warp: values far outside the bulk (a diverged run's 1e30 loss among losses
// near 1) are pulled in, doubly logarithmically, to a few interquartile ranges past it.
//
// Why: standardizing 1 and 1e30 together leaves the ordinary values identical to the last bit, and 1e6 among
// values near 1 squeezes them under the GP's noise floor: with 15% of the box diverging, the GP did worse than
// random search (`bench bo`, section outliers). A power warp cannot undo a scale the doubles have already lost.
//
// When: only if some value of the whole study lies more than TRIGGER interquartile ranges (IQR, s) past the
// quartiles. The highest such gap over all of `bench bo`'s global models (15 functions, 20 seeds, batch 1 and 4:
// 600 runs) was 103 IQRs, so the trigger sits 10x above it and the bench runs bit for bit as without compression; a
// diverged 1e6 among values near 1 is far past it. A trust region's local model does not judge for itself: near
// the incumbent of a converged run, values span orders of magnitude on purpose (5.1e5 IQRs in a Branin run), so it
// takes its global model's compression, or none. A plateau (the middle half tied) needs PLATEAU_TRIGGER.
//
// How: every value past the fence U = q3 + FENCE s is mapped to c = U + s log(1 + log(1 + (y - U) / s)) (mirrored
// below q1 - FENCE s): 1e30 among values of IQR 1 lands about 4 s past the fence. Monotone and invertible, so the
// order of values and the incumbent are kept; predictions in the objective's units read a value past a fence as the
// fence (OutputWarp.moments). The quartiles, the plateau's scale and the three constants (FENCE: where compression
// starts; TRIGGER, PLATEAU_TRIGGER on a plateau: what triggers it) live in src/shared/bulk.ts, which the dashboard's
// chart ranges use too.
import { FENCE, PLATEAU_TRIGGER, TRIGGER, bulkOf } from '../shared/bulk.js';

/**
 * log(1 + d / s) for d, s > 0, also where d / s overflows: a value near Number.MAX_VALUE (which a trainer may tell
 * for a diverged run) over a scale below 1 would compress to Infinity, and one infinity makes the GP's mean NaN.
 */
function log1pRatio(d: number, s: number): number {
  const r = d / s;
  return Number.isFinite(r) ? Math.log1p(r) : Math.log(d) - Math.log(s);
}

export class Tails {
  private constructor(readonly lower: number, readonly upper: number, readonly scale: number) {}

  /** Fitted to `y`; null when nothing is far enough out to need it. */
  static fit(y: ArrayLike<number>): Tails | null {
    const bulk = bulkOf(y);
    if (!bulk) return null;
    const { q1, q3, scale } = bulk;
    const trigger = bulk.plateau ? PLATEAU_TRIGGER : TRIGGER;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < y.length; i++) {
      lo = Math.min(lo, y[i]!);
      hi = Math.max(hi, y[i]!);
    }
    if ((hi - q3) / scale <= trigger && (q1 - lo) / scale <= trigger) return null;
    return new Tails(q1 - FENCE * scale, q3 + FENCE * scale, scale);
  }

  compress(y: number): number {
    if (y > this.upper) return this.upper + this.scale * Math.log1p(log1pRatio(y - this.upper, this.scale));
    if (y < this.lower) return this.lower - this.scale * Math.log1p(log1pRatio(this.lower - y, this.scale));
    return y;
  }

  /** Inverse of compress (Infinity past what a double holds; the warp clamps its inverse to the observed range anyway). */
  expand(c: number): number {
    if (c > this.upper) return this.upper + this.scale * Math.expm1(Math.expm1((c - this.upper) / this.scale));
    if (c < this.lower) return this.lower - this.scale * Math.expm1(Math.expm1((this.lower - c) / this.scale));
    return c;
  }
}
