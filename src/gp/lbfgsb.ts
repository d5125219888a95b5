// Box-constrained quasi-Newton minimizer (projected L-BFGS): fits GP hyperparameters and polishes acquisition maxima.
//
// Not the full L-BFGS-B of Byrd et al. (no generalized Cauchy point): variables held at a bound by their
// gradient are frozen for the step, the two-loop direction is computed on the free ones, and a backtracking
// Armijo search runs along the projected path. That is enough for the smooth, low-dimensional problems here.

export type ValueAndGrad = (x: Float64Array) => { value: number; grad: Float64Array };

export interface MinimizeOptions {
  lower: ArrayLike<number>;
  upper: ArrayLike<number>;
  maxIter?: number;
  /** History pairs kept (default 10). */
  memory?: number;
  /** Stop when the projected gradient's max-norm falls below this (default 1e-5). */
  gtol?: number;
  /** Stop when the relative decrease of f over one iteration falls below this (default 1e-10). */
  ftol?: number;
}

export interface MinimizeResult {
  x: Float64Array;
  value: number;
  iterations: number;
  evaluations: number;
}

function project(x: Float64Array, lo: ArrayLike<number>, hi: ArrayLike<number>): void {
  for (let i = 0; i < x.length; i++) x[i] = Math.min(hi[i]!, Math.max(lo[i]!, x[i]!));
}

export function minimizeBox(f: ValueAndGrad, x0: ArrayLike<number>, opts: MinimizeOptions): MinimizeResult {
  const { lower, upper } = opts;
  const maxIter = opts.maxIter ?? 100;
  const m = opts.memory ?? 10;
  const gtol = opts.gtol ?? 1e-5;
  const ftol = opts.ftol ?? 1e-10;
  const n = x0.length;
  let x = Float64Array.from(x0);
  project(x, lower, upper);
  let { value, grad } = f(x);
  let evaluations = 1;
  if (!Number.isFinite(value)) return { x, value, iterations: 0, evaluations };
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const free = new Uint8Array(n);
  let iterations = 0;
  for (; iterations < maxIter; iterations++) {
    let pgMax = 0;
    for (let i = 0; i < n; i++) {
      const atLo = x[i]! <= lower[i]! && grad[i]! > 0;
      const atHi = x[i]! >= upper[i]! && grad[i]! < 0;
      free[i] = atLo || atHi ? 0 : 1;
      if (free[i]) pgMax = Math.max(pgMax, Math.abs(grad[i]!));
    }
    if (pgMax < gtol) break;
    // Two-loop recursion on the free subspace.
    const q = new Float64Array(n);
    for (let i = 0; i < n; i++) q[i] = free[i] ? -grad[i]! : 0;
    const alpha = new Array<number>(S.length);
    for (let h = S.length - 1; h >= 0; h--) {
      let a = 0;
      for (let i = 0; i < n; i++) if (free[i]) a += S[h]![i]! * q[i]!;
      a *= rho[h]!;
      alpha[h] = a;
      for (let i = 0; i < n; i++) if (free[i]) q[i] -= a * Y[h]![i]!;
    }
    if (S.length > 0) {
      const last = S.length - 1;
      let sy = 0;
      let yy = 0;
      for (let i = 0; i < n; i++) {
        sy += S[last]![i]! * Y[last]![i]!;
        yy += Y[last]![i]! * Y[last]![i]!;
      }
      const gamma = sy / yy;
      for (let i = 0; i < n; i++) q[i] *= gamma;
    } else {
      // First step: unit-length steepest descent so the trial step is on the scale of the box.
      let nrm = 0;
      for (let i = 0; i < n; i++) nrm = Math.max(nrm, Math.abs(q[i]!));
      const scale = Math.min(1, 0.1 / Math.max(nrm, 1e-300)) * Math.max(1e-3, maxWidth(lower, upper));
      for (let i = 0; i < n; i++) q[i] *= scale;
    }
    for (let h = 0; h < S.length; h++) {
      let b = 0;
      for (let i = 0; i < n; i++) if (free[i]) b += Y[h]![i]! * q[i]!;
      b *= rho[h]!;
      for (let i = 0; i < n; i++) if (free[i]) q[i] += (alpha[h]! - b) * S[h]![i]!;
    }
    let dg = 0;
    for (let i = 0; i < n; i++) {
      if (!free[i]) q[i] = 0;
      dg += q[i]! * grad[i]!;
    }
    if (!(dg < 0)) {
      // Not a descent direction (curvature pairs went stale): restart from steepest descent.
      S.length = 0;
      Y.length = 0;
      rho.length = 0;
      for (let i = 0; i < n; i++) q[i] = free[i] ? -grad[i]! : 0;
    }
    let t = 1;
    let accepted = false;
    let xNew = new Float64Array(n);
    let fNew = value;
    let gNew = grad;
    for (let ls = 0; ls < 30; ls++) {
      for (let i = 0; i < n; i++) xNew[i] = x[i]! + t * q[i]!;
      project(xNew, lower, upper);
      let decrease = 0;
      for (let i = 0; i < n; i++) decrease += grad[i]! * (xNew[i]! - x[i]!);
      const r = f(xNew);
      evaluations++;
      if (Number.isFinite(r.value) && r.value <= value + 1e-4 * decrease) {
        fNew = r.value;
        gNew = r.grad;
        accepted = true;
        break;
      }
      t *= 0.5;
    }
    if (!accepted) {
      if (S.length === 0) break;
      S.length = 0;
      Y.length = 0;
      rho.length = 0;
      continue;
    }
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    let sy = 0;
    for (let i = 0; i < n; i++) {
      s[i] = xNew[i]! - x[i]!;
      y[i] = gNew[i]! - grad[i]!;
      sy += s[i]! * y[i]!;
    }
    let yy = 0;
    for (let i = 0; i < n; i++) yy += y[i]! * y[i]!;
    if (sy > 1e-12 * yy) {
      S.push(s);
      Y.push(y);
      rho.push(1 / sy);
      if (S.length > m) {
        S.shift();
        Y.shift();
        rho.shift();
      }
    }
    const rel = (value - fNew) / Math.max(Math.abs(value), Math.abs(fNew), 1);
    x = xNew;
    xNew = new Float64Array(n);
    value = fNew;
    grad = gNew;
    if (rel < ftol) {
      iterations++;
      break;
    }
  }
  return { x, value, iterations, evaluations };
}

function maxWidth(lo: ArrayLike<number>, hi: ArrayLike<number>): number {
  let w = 0;
  for (let i = 0; i < lo.length; i++) {
    const wi = hi[i]! - lo[i]!;
    if (Number.isFinite(wi)) w = Math.max(w, wi);
  }
  return w > 0 ? w : 1;
}
