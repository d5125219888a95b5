// One GP likelihood step (kernel matrix, factorization, solves, gradient) written on mathjs dense matrices of datatype 'number', timed against the typed-array code.
//
// The question: is mathjs within 3x of the Float64Array loops once its typed fast path is used
// (DenseMatrix with datatype 'number' makes add/multiply/dotMultiply pick number-specialized inner loops)?
// Both sides do the same work from the same precomputed per-dimension squared distances: build the Matérn-5/2
// ARD kernel, factor it (mathjs has no Cholesky: lup, its LU with partial pivoting), solve K alpha = y, form
// K^-1 and the gradient 1/2 tr((K^-1 - alpha alpha^T) dK/dtheta) for every hyperparameter. A test checks the
// two give the same value and gradient, so the timing compares equal results.
import * as math from 'mathjs';
import { negLogPosterior, type GpData } from '../../gp/gp.js';
import { pairDistances } from '../../gp/kernel.js';
import { Rng } from '../../gp/rng.js';

type M = math.Matrix;
const num = (rows: number[][]): M => math.matrix(rows, 'dense', 'number');
const SQRT5 = Math.sqrt(5);

/** Per-dimension squared-distance matrices (categorical dims: 0/1 Hamming), each n x n with datatype 'number'. */
export function mathjsDistances(X: number[][], categorical: boolean[]): M[] {
  return categorical.map((cat, k) => num(X.map((a) => X.map((b) => (cat ? (a[k] === b[k] ? 0 : 1) : (a[k]! - b[k]!) ** 2)))));
}

/** Negative log marginal likelihood (no prior) and its gradient in theta = [log l_1..log l_d, log s2, log noise], all on mathjs. */
export function gpStepMathjs(D: M[], y: number[], theta: number[]): { value: number; grad: number[] } {
  const d = D.length;
  const n = y.length;
  const s2 = Math.exp(theta[d]!);
  const noise = Math.exp(theta[d + 1]!);
  const invLs2 = theta.slice(0, d).map((t) => Math.exp(-2 * t));
  let r2 = math.multiply(D[0]!, invLs2[0]!) as M;
  for (let k = 1; k < d; k++) r2 = math.add(r2, math.multiply(D[k]!, invLs2[k]!)) as M;
  // Element-wise sqrt/exp have no matrix overload: map, then restate the datatype so later ops keep the fast path.
  const r = num(math.map(r2, Math.sqrt).toArray() as number[][]);
  const e = num(math.map(r, (v: number) => Math.exp(-SQRT5 * v)).toArray() as number[][]);
  const poly = math.add(math.add(math.multiply(r, SQRT5), math.multiply(r2, 5 / 3)), 1) as M;
  const Kf = math.multiply(math.dotMultiply(poly, e), s2) as M;
  const K = math.add(Kf, math.multiply(math.identity(n, 'dense') as M, noise)) as M;
  const lu = math.lup(K);
  const yv = math.matrix(y, 'dense', 'number');
  const alpha = math.lusolve(lu, yv) as M;
  const a = (alpha.toArray() as number[][]).map((row) => row[0]!);
  const U = lu.U as M;
  let logDet = 0;
  for (let i = 0; i < n; i++) logDet += Math.log(Math.abs(U.get([i, i]) as number));
  const value = 0.5 * (math.dot(y, a) as number) + 0.5 * logDet + 0.5 * n * Math.log(2 * Math.PI);
  const W = math.inv(K) as M;
  const aCol = num(a.map((v) => [v]));
  const Q = math.subtract(W, math.multiply(aCol, math.transpose(aCol))) as M;
  // dK/d(r^2) * s2 = -(5/6) s2 (1 + sqrt5 r) e
  const dProfile = math.multiply(math.dotMultiply(math.add(math.multiply(r, SQRT5), 1) as M, e), (-5 / 6) * s2) as M;
  const QdP = math.dotMultiply(Q, dProfile) as M;
  const grad: number[] = [];
  for (let k = 0; k < d; k++) {
    // dK/dlog l_k = dProfile .* D_k * (-2 / l_k^2); the diagonal of D_k is zero, so the noise term drops out.
    grad.push(0.5 * -2 * invLs2[k]! * (math.sum(math.dotMultiply(QdP, D[k]!)) as number));
  }
  grad.push(0.5 * (math.sum(math.dotMultiply(Q, Kf)) as number));
  grad.push(0.5 * noise * (math.trace(Q) as number));
  return { value, grad };
}

/** A reproducible n-point problem in d dims (6 continuous + 1 categorical by default, like the schedule space). */
export function gpStepProblem(n: number, seed = 3): { X: number[][]; y: number[]; categorical: boolean[]; theta: number[] } {
  const rng = new Rng(seed, n);
  const categorical = [false, false, false, false, false, false, true];
  const X = Array.from({ length: n }, () => categorical.map((c) => (c ? rng.int(3) : rng.uniform())));
  const y = X.map((x) => Math.sin(3 * x[0]!) + x[1]! * x[2]! + 0.1 * x[6]! + 0.05 * rng.normal());
  const theta = [...categorical.map((_, k) => Math.log(0.3 + 0.1 * k)), Math.log(1.2), Math.log(1e-2)];
  return { X, y, categorical, theta };
}

export interface GpStepTiming {
  n: number;
  mathjsMs: number;
  typedMs: number;
  /** mathjsMs / typedMs: the issue moves the GP onto mathjs if this is <= 3. */
  ratio: number;
  /** Largest relative difference between the two results (value and gradient): they must compute the same thing. */
  maxRelDiff: number;
}

/** Times both implementations on the same problem, alternating, best of `reps` each. */
export function timeGpStep(n: number, reps = 3): GpStepTiming {
  const { X, y, categorical, theta } = gpStepProblem(n);
  const d = categorical.length;
  const data: GpData = { X: Float64Array.from(X.flat()), y: Float64Array.from(y), n, d, categorical: Uint8Array.from(categorical.map(Number)) };
  const D = mathjsDistances(X, categorical);
  const pd = pairDistances(data.X, n, d, data.categorical);
  const th = Float64Array.from(theta);
  let mathjsMs = Infinity;
  let typedMs = Infinity;
  let mj = { value: 0, grad: [] as number[] };
  let ty: { value: number; grad: Float64Array } = { value: 0, grad: new Float64Array(0) };
  for (let r = 0; r < reps; r++) {
    let t = performance.now();
    mj = gpStepMathjs(D, y, theta);
    mathjsMs = Math.min(mathjsMs, performance.now() - t);
    t = performance.now();
    ty = negLogPosterior(data, th, pd, false);
    typedMs = Math.min(typedMs, performance.now() - t);
  }
  const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(1, Math.abs(b));
  let maxRelDiff = rel(mj.value, ty.value);
  mj.grad.forEach((g, k) => (maxRelDiff = Math.max(maxRelDiff, rel(g, ty.grad[k]!))));
  return { n, mathjsMs, typedMs, ratio: mathjsMs / typedMs, maxRelDiff };
}
