// Cholesky, triangular solves and the Cholesky-based inverse against mathjs (LU) as an independent float64 reference.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as math from 'mathjs';
import { cholesky, cholInverse, cholLogDet, cholSolve } from '../../src/gp/linalg.js';
import { Rng } from '../../src/gp/rng.js';

function randomSpd(n: number, rng: Rng): number[][] {
  const B = Array.from({ length: n }, () => Array.from({ length: n }, () => rng.normal()));
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => B[i]!.reduce((s, v, k) => s + v * B[j]![k]!, 0) + (i === j ? 0.5 : 0)));
}

const flat = (A: number[][]) => Float64Array.from(A.flat());

test('cholesky: L L^T reproduces A and solves match mathjs lusolve', () => {
  const rng = new Rng(3);
  const n = 12;
  const A = randomSpd(n, rng);
  const { L, jitter } = cholesky(flat(A), n);
  assert.equal(jitter, 0, 'a well-conditioned SPD matrix must factor without jitter');
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += L[i * n + k]! * L[j * n + k]!;
      assert.ok(Math.abs(s - A[i]![j]!) < 1e-10 * (1 + Math.abs(A[i]![j]!)), `(L L^T)[${i}][${j}] = ${s}, expected ${A[i]![j]}`);
    }
  }
  const b = Array.from({ length: n }, () => rng.normal());
  const x = cholSolve(L, n, b);
  const ref = (math.lusolve(A, b) as number[][]).map((r) => r[0]!);
  x.forEach((v, i) => assert.ok(Math.abs(v - ref[i]!) < 1e-9 * (1 + Math.abs(ref[i]!)), `x[${i}] = ${v}, mathjs says ${ref[i]}`));
  const logdet = Math.log(math.det(A) as number);
  assert.ok(Math.abs(cholLogDet(L, n) - logdet) < 1e-9 * Math.abs(logdet) + 1e-9);
});

test('cholInverse matches mathjs inv', () => {
  const rng = new Rng(4);
  const n = 9;
  const A = randomSpd(n, rng);
  const W = cholInverse(cholesky(flat(A), n).L, n);
  const ref = math.inv(A) as number[][];
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) assert.ok(Math.abs(W[i * n + j]! - ref[i]![j]!) < 1e-8 * (1 + Math.abs(ref[i]![j]!)), `W[${i}][${j}]`);
});

test('cholesky: a singular matrix (duplicate rows) succeeds with jitter instead of throwing', () => {
  // Rank-1 matrix v v^T: what a noise-free kernel gives for repeated inputs.
  const v = [1, 1, 1, 0.5];
  const A = v.map((a) => v.map((b) => a * b));
  const { L, jitter } = cholesky(flat(A), 4);
  assert.ok(jitter > 0, 'jitter must be reported');
  assert.ok(L.every(Number.isFinite));
});
