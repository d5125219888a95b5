// Standard optimization test functions with known minima, for `bench bo` and the optimizer's statistical tests.
//
// Grouped as the issue asks: smooth, multimodal, mixed integer/categorical, 10-D or more with inert dimensions,
// and noisy. `f` is always the noise-free value (regret is measured on it); a noisy function adds
// N(0, noiseSd^2) to what the optimizer is told. src/bench/bo/optuna_tpe.py transcribes every one of them
// independently from the published definitions, and a test checks the two agree.
import type { Params } from '../../optimizer/types.js';
import type { SearchSpace } from '../../optimizer/space.js';

export type FunctionGroup = 'smooth' | 'multimodal' | 'mixed' | 'high-dim' | 'noisy';

export interface TestFunction {
  name: string;
  group: FunctionGroup;
  space: SearchSpace;
  /** Known global minimum value of `f` over `space` (integer and categorical constraints included). */
  optimum: number;
  /** A point where `f` attains `optimum` (to the digits published), for the tests. */
  minimizer: Params;
  /** Noise-free value. */
  f(p: Params): number;
  /** Standard deviation of the Gaussian noise added to what the optimizer sees; absent for deterministic functions. */
  noiseSd?: number;
}

export function floats(names: string[], low: number, high: number): SearchSpace {
  return Object.fromEntries(names.map((n) => [n, { type: 'float' as const, low, high }]));
}

export function vec(p: Params, d: number, from = 0): number[] {
  return Array.from({ length: d }, (_, i) => p[`x${i + from}`] as number);
}

export const xs = (d: number, from = 0) => Array.from({ length: d }, (_, i) => `x${i + from}`);
export const point = (values: number[]): Params => Object.fromEntries(values.map((v, i) => [`x${i}`, v]));

function braninValue(x: number, y: number): number {
  const b = 5.1 / (4 * Math.PI * Math.PI);
  const c = 5 / Math.PI;
  const t = 1 / (8 * Math.PI);
  return (y - b * x * x + c * x - 6) ** 2 + 10 * (1 - t) * Math.cos(x) + 10;
}

export const branin: TestFunction = {
  name: 'branin',
  group: 'smooth',
  space: { x0: { type: 'float', low: -5, high: 10 }, x1: { type: 'float', low: 0, high: 15 } },
  optimum: 0.397887357729738,
  minimizer: point([Math.PI, 2.275]),
  f: (p) => braninValue(p.x0 as number, p.x1 as number),
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
const H6_MIN = [0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573];

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
  group: 'smooth',
  space: floats(xs(3), 0, 1),
  optimum: -3.86278214782076,
  minimizer: point([0.114614, 0.555649, 0.852547]),
  f: (p) => hartmann(vec(p, 3), H3_A, H3_P),
};

export const hartmann6: TestFunction = {
  name: 'hartmann6',
  group: 'smooth',
  space: floats(xs(6), 0, 1),
  optimum: -3.32236801141551,
  minimizer: point(H6_MIN),
  f: (p) => hartmann(vec(p, 6), H6_A, H6_P),
};

export const rosenbrock4: TestFunction = {
  name: 'rosenbrock4',
  group: 'smooth',
  space: floats(xs(4), -2, 2),
  optimum: 0,
  minimizer: point([1, 1, 1, 1]),
  f(p) {
    const x = vec(p, 4);
    let s = 0;
    for (let i = 0; i < 3; i++) s += 100 * (x[i + 1]! - x[i]! ** 2) ** 2 + (1 - x[i]!) ** 2;
    return s;
  },
};

function ackleyValue(x: number[]): number {
  const n = x.length;
  const s1 = x.reduce((a, v) => a + v * v, 0) / n;
  const s2 = x.reduce((a, v) => a + Math.cos(2 * Math.PI * v), 0) / n;
  return -20 * Math.exp(-0.2 * Math.sqrt(s1)) - Math.exp(s2) + 20 + Math.E;
}

export const ackley5: TestFunction = {
  name: 'ackley5',
  group: 'multimodal',
  space: floats(xs(5), -5, 10),
  optimum: 0,
  minimizer: point([0, 0, 0, 0, 0]),
  f: (p) => ackleyValue(vec(p, 5)),
};

export const rastrigin4: TestFunction = {
  name: 'rastrigin4',
  group: 'multimodal',
  space: floats(xs(4), -5.12, 5.12),
  optimum: 0,
  minimizer: point([0, 0, 0, 0]),
  f: (p) => vec(p, 4).reduce((s, v) => s + v * v - 10 * Math.cos(2 * Math.PI * v) + 10, 0),
};

/** Styblinski-Tang's one-dimensional term; minimum -39.16616570377142 at x = -2.903534. */
const stTerm = (x: number, linear = 5) => 0.5 * (x ** 4 - 16 * x * x + linear * x);
const ST_MIN_1D = -39.166165703771426;

export const styblinskiTang5: TestFunction = {
  name: 'styblinski_tang5',
  group: 'multimodal',
  space: floats(xs(5), -5, 5),
  optimum: 5 * ST_MIN_1D,
  minimizer: point([-2.903534, -2.903534, -2.903534, -2.903534, -2.903534]),
  f: (p) => vec(p, 5).reduce((s, v) => s + stTerm(v), 0),
};

export const schwefel4: TestFunction = {
  name: 'schwefel4',
  group: 'multimodal',
  space: floats(xs(4), -500, 500),
  // 418.9828872724338 per dimension is the depth of -x sin(sqrt|x|) at x = 420.968746, so the minimum is 0.
  optimum: 0,
  minimizer: point([420.968746, 420.968746, 420.968746, 420.968746]),
  f: (p) => 418.9828872724338 * 4 - vec(p, 4).reduce((s, v) => s + v * Math.sin(Math.sqrt(Math.abs(v))), 0),
};

export const michalewicz5: TestFunction = {
  name: 'michalewicz5',
  group: 'multimodal',
  space: floats(xs(5), 0, Math.PI),
  optimum: -4.687658179088145,
  minimizer: point([2.202905525392958, 1.5707963320632525, 1.2849915701368997, 1.9230584715808354, 1.7204697739547647]),
  f: (p) => -vec(p, 5).reduce((s, v, i) => s + Math.sin(v) * Math.sin(((i + 1) * v * v) / Math.PI) ** 20, 0),
};

/** Per choice of `c`: a shift of every numeric coordinate and an additive offset; the global optimum is c = 'a' at 0. */
const MIXED_ACKLEY_SHIFT: Record<string, [number, number]> = { a: [0, 0], b: [2, 0.5], c: [-3, 1], d: [5, 2] };

export const mixedAckley: TestFunction = {
  name: 'mixed_ackley',
  group: 'mixed',
  space: {
    ...floats(xs(3), -5, 10),
    x3: { type: 'int', low: -5, high: 10 },
    x4: { type: 'int', low: -5, high: 10 },
    c: { type: 'categorical', choices: ['a', 'b', 'c', 'd'] },
  },
  optimum: 0,
  minimizer: { x0: 0, x1: 0, x2: 0, x3: 0, x4: 0, c: 'a' },
  f(p) {
    const [shift, offset] = MIXED_ACKLEY_SHIFT[p.c as string]!;
    return ackleyValue(vec(p, 5).map((v) => v - shift)) + offset;
  },
};

/** The categorical flips the linear term: 'a' puts the deep basin at x = -2.90, 'b' mirrors it to +2.90 (plus 1), 'c' makes both basins equal and shallower. */
const MIXED_ST: Record<string, [number, number]> = { a: [5, 0], b: [-5, 1], c: [0, 0] };

export const mixedStyblinski: TestFunction = {
  name: 'mixed_styblinski',
  group: 'mixed',
  space: {
    ...floats(xs(3), -5, 5),
    x3: { type: 'int', low: -5, high: 5 },
    x4: { type: 'int', low: -5, high: 5 },
    c: { type: 'categorical', choices: ['a', 'b', 'c'] },
  },
  // The integer coordinates cannot reach -2.9035: their best is -3, where the term is 0.5 (81 - 144 - 15) = -39.
  optimum: 3 * ST_MIN_1D + 2 * -39,
  minimizer: { x0: -2.903534, x1: -2.903534, x2: -2.903534, x3: -3, x4: -3, c: 'a' },
  f(p) {
    const [linear, offset] = MIXED_ST[p.c as string]!;
    return vec(p, 5).reduce((s, v) => s + stTerm(v, linear), 0) + offset;
  },
};

export const hartmann6in12: TestFunction = {
  name: 'hartmann6_12d',
  group: 'high-dim',
  space: floats(xs(12), 0, 1),
  optimum: -3.32236801141551,
  minimizer: point([...H6_MIN, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]),
  f: (p) => hartmann(vec(p, 6), H6_A, H6_P),
};

export const branin10: TestFunction = {
  name: 'branin_10d',
  group: 'high-dim',
  space: { x0: { type: 'float', low: -5, high: 10 }, x1: { type: 'float', low: 0, high: 15 }, ...floats(xs(8, 2), 0, 1) },
  optimum: 0.397887357729738,
  minimizer: point([Math.PI, 2.275, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]),
  f: (p) => braninValue(p.x0 as number, p.x1 as number),
};

export const hartmann6Noisy: TestFunction = { ...hartmann6, name: 'hartmann6_noisy', group: 'noisy', noiseSd: 0.1 };
export const braninNoisy: TestFunction = { ...branin, name: 'branin_noisy', group: 'noisy', noiseSd: 1 };

export const testFunctions: TestFunction[] = [
  branin, hartmann3, hartmann6, rosenbrock4,
  ackley5, rastrigin4, styblinskiTang5, schwefel4, michalewicz5,
  mixedAckley, mixedStyblinski,
  hartmann6in12, branin10,
  hartmann6Noisy, braninNoisy,
];

/** The outlier section's functions: smooth, multimodal-ish, heavy-tailed; each with a float first parameter. */
export const outlierFunctions: TestFunction[] = [branin, hartmann6, rosenbrock4];
/** The quick run's subset: one or two per group. */
export const quickFunctions: TestFunction[] = [branin, hartmann6, rastrigin4, styblinskiTang5, mixedStyblinski, branin10, hartmann6Noisy];

export function functionByName(name: string): TestFunction | undefined {
  return testFunctions.find((f) => f.name === name);
}
