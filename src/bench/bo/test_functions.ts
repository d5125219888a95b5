// Standard optimization test functions with known minima, for `bench bo` and the optimizer's statistical tests.
import type { Params } from '../../optimizer/types.js';
import type { SearchSpace } from '../../optimizer/space.js';

export interface TestFunction {
  name: string;
  space: SearchSpace;
  /** Known global minimum value. */
  optimum: number;
  f(p: Params): number;
}

function floats(names: string[], low: number, high: number): SearchSpace {
  return Object.fromEntries(names.map((n) => [n, { type: 'float' as const, low, high }]));
}

function vec(p: Params, d: number): number[] {
  return Array.from({ length: d }, (_, i) => p[`x${i}`] as number);
}

const xs = (d: number) => Array.from({ length: d }, (_, i) => `x${i}`);

export const branin: TestFunction = {
  name: 'branin',
  space: { x0: { type: 'float', low: -5, high: 10 }, x1: { type: 'float', low: 0, high: 15 } },
  optimum: 0.397887357729738,
  f(p) {
    const x = p.x0 as number;
    const y = p.x1 as number;
    const b = 5.1 / (4 * Math.PI * Math.PI);
    const c = 5 / Math.PI;
    const t = 1 / (8 * Math.PI);
    return (y - b * x * x + c * x - 6) ** 2 + 10 * (1 - t) * Math.cos(x) + 10;
  },
};

// Hartmann constants (Dixon & Szegő 1978).
const H_ALPHA = [1.0, 1.2, 3.0, 3.2];
const H3_A = [[3, 10, 30], [0.1, 10, 35], [3, 10, 30], [0.1, 10, 35]];
const H3_P = [[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547], [381, 5743, 8828]].map((r) => r.map((v) => v * 1e-4));
const H6_A = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const H6_P = [
  [1312, 1696, 5569, 124, 8283, 5886],
  [2329, 4135, 8307, 3736, 1004, 9991],
  [2348, 1451, 3522, 2883, 3047, 6650],
  [4047, 8828, 8732, 5743, 1091, 381],
].map((r) => r.map((v) => v * 1e-4));

function hartmann(x: number[], A: number[][], P: number[][]): number {
  let s = 0;
  for (let i = 0; i < 4; i++) {
    let inner = 0;
    for (let j = 0; j < x.length; j++) inner += A[i]![j]! * (x[j]! - P[i]![j]!) ** 2;
    s += H_ALPHA[i]! * Math.exp(-inner);
  }
  return -s;
}

export const hartmann3: TestFunction = {
  name: 'hartmann3',
  space: floats(xs(3), 0, 1),
  optimum: -3.86278214782076,
  f: (p) => hartmann(vec(p, 3), H3_A, H3_P),
};

export const hartmann6: TestFunction = {
  name: 'hartmann6',
  space: floats(xs(6), 0, 1),
  optimum: -3.32236801141551,
  f: (p) => hartmann(vec(p, 6), H6_A, H6_P),
};

export const rosenbrock4: TestFunction = {
  name: 'rosenbrock4',
  space: floats(xs(4), -2, 2),
  optimum: 0,
  f(p) {
    const x = vec(p, 4);
    let s = 0;
    for (let i = 0; i < 3; i++) s += 100 * (x[i + 1]! - x[i]! ** 2) ** 2 + (1 - x[i]!) ** 2;
    return s;
  },
};

export const ackley5: TestFunction = {
  name: 'ackley5',
  space: floats(xs(5), -5, 10),
  optimum: 0,
  f(p) {
    const x = vec(p, 5);
    const n = x.length;
    const s1 = x.reduce((a, v) => a + v * v, 0) / n;
    const s2 = x.reduce((a, v) => a + Math.cos(2 * Math.PI * v), 0) / n;
    return -20 * Math.exp(-0.2 * Math.sqrt(s1)) - Math.exp(s2) + 20 + Math.E;
  },
};

export const testFunctions: TestFunction[] = [branin, hartmann3, hartmann6, rosenbrock4, ackley5];
