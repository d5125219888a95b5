// Float64 plain-JS reference of Keras BatchNormalization(renorm=True): forward, updates, and backward with r, d constant.

export interface RefState {
  gamma: number[];
  beta: number[];
  movingMean: number[];
  movingVariance: number[];
  movingStddev: number[];
  renormMean: number[];
  renormStddev: number[];
}

export interface RefOptions {
  epsilon: number;
  momentum: number;
  renormMomentum: number;
  rmax: number;
  rmin: number;
  dmax: number;
}

/** x is [m][c] (all non-channel axes flattened). */
export function refMoments(x: number[][]): { mean: number[]; variance: number[] } {
  const m = x.length;
  const c = x[0]!.length;
  const mean = new Array<number>(c).fill(0);
  const variance = new Array<number>(c).fill(0);
  for (const row of x) row.forEach((v, j) => (mean[j]! += v / m));
  for (const row of x) row.forEach((v, j) => (variance[j]! += (v - mean[j]!) ** 2 / m));
  return { mean, variance };
}

export function refRD(mean: number[], variance: number[], s: RefState, o: RefOptions) {
  const clip = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  const std = variance.map((v) => Math.sqrt(v + o.epsilon));
  const rs = s.renormStddev.map((v) => Math.max(v, Math.sqrt(o.epsilon)));
  const rRaw = std.map((v, j) => v / rs[j]!);
  const dRaw = mean.map((v, j) => (v - s.renormMean[j]!) / rs[j]!);
  return { std, rRaw, dRaw, r: rRaw.map((v) => clip(v, o.rmin, o.rmax)), d: dRaw.map((v) => clip(v, -o.dmax, o.dmax)) };
}

/** Training forward; `frozen` (optional) replaces r and d by given constants. Returns y and the updated state. */
export function refTrain(x: number[][], s: RefState, o: RefOptions, frozen?: { r: number[]; d: number[] }) {
  const { mean, variance } = refMoments(x);
  const rd = refRD(mean, variance, s, o);
  const r = frozen?.r ?? rd.r;
  const d = frozen?.d ?? rd.d;
  const y = x.map((row) => row.map((v, j) => ((v - mean[j]!) / rd.std[j]! * r[j]! + d[j]!) * s.gamma[j]! + s.beta[j]!));
  const ema = (old: number[], val: number[], mom: number) => old.map((v, j) => v * mom + val[j]! * (1 - mom));
  const movingStddev = ema(s.movingStddev, rd.std, o.momentum);
  const next: RefState = {
    gamma: s.gamma,
    beta: s.beta,
    renormMean: ema(s.renormMean, mean, o.renormMomentum),
    renormStddev: ema(s.renormStddev, rd.std, o.renormMomentum),
    movingMean: ema(s.movingMean, mean, o.momentum),
    movingStddev,
    movingVariance: movingStddev.map((v) => Math.max(v * v - o.epsilon, 0)),
  };
  return { y, r, d, rRaw: rd.rRaw, dRaw: rd.dRaw, next };
}

export function refInference(x: number[][], s: RefState, o: RefOptions): number[][] {
  return x.map((row) => row.map((v, j) => (s.gamma[j]! * (v - s.movingMean[j]!)) / Math.sqrt(s.movingVariance[j]! + o.epsilon) + s.beta[j]!));
}

/** Analytic gradient of L = sum(y * w) with r and d constant (Keras' stop_gradient). */
export function refGrad(x: number[][], w: number[][], s: RefState, o: RefOptions) {
  const m = x.length;
  const c = x[0]!.length;
  const { mean, variance } = refMoments(x);
  const { std, r, d } = refRD(mean, variance, s, o);
  const dgamma = new Array<number>(c).fill(0);
  const dbeta = new Array<number>(c).fill(0);
  const sumG = new Array<number>(c).fill(0);
  const sumGXhat = new Array<number>(c).fill(0);
  x.forEach((row, i) =>
    row.forEach((v, j) => {
      const xhat = (v - mean[j]!) / std[j]!;
      const g = w[i]![j]!;
      dgamma[j]! += g * (xhat * r[j]! + d[j]!);
      dbeta[j]! += g;
      sumG[j]! += g;
      sumGXhat[j]! += g * xhat;
    }),
  );
  const dx = x.map((row, i) =>
    row.map((v, j) => {
      const xhat = (v - mean[j]!) / std[j]!;
      return ((s.gamma[j]! * r[j]!) / std[j]!) * (w[i]![j]! - sumG[j]! / m - (xhat * sumGXhat[j]!) / m);
    }),
  );
  return { dx, dgamma, dbeta };
}

export { rng, randn } from '../fixtures/rng.js';

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}
