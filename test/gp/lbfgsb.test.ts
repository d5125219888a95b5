// The projected L-BFGS minimizer on problems with known minima, inside and on the boundary of the box.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { minimizeBox } from '../../src/gp/lbfgsb.js';

test('finds the Rosenbrock minimum (1, 1) inside a box', () => {
  const f = (x: Float64Array) => {
    const [a, b] = [x[0]!, x[1]!];
    return { value: 100 * (b - a * a) ** 2 + (1 - a) ** 2, grad: Float64Array.of(-400 * a * (b - a * a) - 2 * (1 - a), 200 * (b - a * a)) };
  };
  const r = minimizeBox(f, [-1.2, 1], { lower: [-2, -2], upper: [2, 2], maxIter: 500, gtol: 1e-9, ftol: 0 });
  assert.ok(Math.abs(r.x[0]! - 1) < 1e-4 && Math.abs(r.x[1]! - 1) < 1e-4, `got ${Array.from(r.x)}`);
});

test('stops on the boundary when the unconstrained minimum is outside the box', () => {
  // min (x - 3)^2 + (y + 1)^2 + x y over [0, 1]^2: the KKT point is x = 1 (upper), y = 0 (lower).
  const f = (x: Float64Array) => {
    const [a, b] = [x[0]!, x[1]!];
    return { value: (a - 3) ** 2 + (b + 1) ** 2 + a * b, grad: Float64Array.of(2 * (a - 3) + b, 2 * (b + 1) + a) };
  };
  const r = minimizeBox(f, [0.5, 0.5], { lower: [0, 0], upper: [1, 1] });
  assert.deepEqual(Array.from(r.x), [1, 0]);
});
