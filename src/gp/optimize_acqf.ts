// Maximizes an acquisition over a mixed box the way Optuna's optim_mixed does: QMC screening, then local searches (L-BFGS-B on continuous dims, exhaustive or line search on discrete ones).
//
// 1. Screen >= 2,048 scrambled-Sobol candidates, plus small perturbations of and axis lines through anchor
//    points (a sharp optimum is rarely hit by a space-filling design).
// 2. Start local searches from the seeds (the best observed points) and from the best screened candidates.
// 3. Each local search alternates, until a round brings no gain: L-BFGS-B over the continuous dims (and
//    integer grids longer than LONG_GRID, relaxed then snapped); every choice of each categorical; every level
//    of each short integer grid; a doubling line search over the levels of each long grid.
// Integers are a grid of encoded positions and candidates are always snapped to it, so the GP never sees a
// fractional integer. An optional box (the trust region) restricts continuous and integer dims.
import { minimizeBox } from './lbfgsb.js';
import { Rng } from './rng.js';
import { sobolPoints } from './sobol.js';

export interface DimSpec {
  kind: 'continuous' | 'grid' | 'categorical';
  /** Sorted encoded positions of a grid dimension. */
  grid?: Float64Array;
  /** Number of choices of a categorical dimension (encoded as 0..choices-1). */
  choices?: number;
}

/** Score of a point: value (higher is better) and, when asked, its gradient (zero on categorical dims). */
export type Scorer = (x: Float64Array, withGrad: boolean) => { value: number; grad?: Float64Array };

export interface SearchBox {
  lower: Float64Array;
  upper: Float64Array;
}

export interface OptimizeOptions {
  /** Sobol screening points (default 2048). */
  candidates?: number;
  /** Local searches in all, seeds included (default 10). */
  starts?: number;
  /** Points every run starts a local search from (e.g. the best observed points), if feasible. */
  seeds?: Float64Array[];
  /** Points to perturb locally, and to draw axis lines through, for extra screening candidates. */
  anchors?: Float64Array[];
  /** Restriction of continuous and integer dims (categoricals stay free). */
  box?: SearchBox;
  /** Points that must not be returned (already observed, pending, or earlier in the batch), compared after snapping. */
  exclude?: (x: Float64Array) => boolean;
}

/** Integer grids longer than this are relaxed for the gradient step; shorter ones are searched exhaustively. */
const LONG_GRID = 16;
const ROUNDS = 4;
/** Points per axis line through each anchor. */
const LINE_POINTS = 16;

function nearestIndex(grid: Float64Array, u: number): number {
  let lo = 0;
  let hi = grid.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (grid[mid]! <= u) lo = mid;
    else hi = mid;
  }
  return Math.abs(grid[lo]! - u) <= Math.abs(grid[hi]! - u) ? lo : hi;
}

/** Maps a point of [0,1]^d onto the feasible encoded set: grids snapped, categoricals to an index. */
export function snapPoint(x: Float64Array, dims: DimSpec[], fromUnit: boolean): Float64Array {
  for (let j = 0; j < dims.length; j++) {
    const dim = dims[j]!;
    if (dim.kind === 'continuous') x[j] = Math.min(1, Math.max(0, x[j]!));
    else if (dim.kind === 'grid') x[j] = dim.grid![nearestIndex(dim.grid!, x[j]!)]!;
    else if (fromUnit) x[j] = Math.min(dim.choices! - 1, Math.floor(x[j]! * dim.choices!));
  }
  return x;
}

/** The feasible set of one dim inside the box: an interval for continuous dims, a slice of levels for grids. */
interface Feasible {
  lo: number;
  hi: number;
  /** Grid dims: indices [first, last] of the levels inside the box (at least one). */
  first: number;
  last: number;
}

function feasibleSets(dims: DimSpec[], box?: SearchBox): Feasible[] {
  return dims.map((dim, j) => {
    const lo = box ? Math.max(0, box.lower[j]!) : 0;
    const hi = box ? Math.min(1, box.upper[j]!) : 1;
    if (dim.kind !== 'grid') return { lo, hi, first: 0, last: 0 };
    const g = dim.grid!;
    let first = 0;
    while (first < g.length && g[first]! < lo) first++;
    let last = g.length - 1;
    while (last >= 0 && g[last]! > hi) last--;
    if (first > last) first = last = nearestIndex(g, (lo + hi) / 2);
    return { lo: g[first]!, hi: g[last]!, first, last };
  });
}

/** Projects onto the feasible set: clamp continuous dims, snap grids to an allowed level. */
function project(x: Float64Array, dims: DimSpec[], feas: Feasible[]): Float64Array {
  for (let j = 0; j < dims.length; j++) {
    const dim = dims[j]!;
    const f = feas[j]!;
    if (dim.kind === 'continuous') x[j] = Math.min(f.hi, Math.max(f.lo, x[j]!));
    else if (dim.kind === 'grid') x[j] = dim.grid![Math.min(f.last, Math.max(f.first, nearestIndex(dim.grid!, x[j]!)))]!;
    else x[j] = Math.min(dim.choices! - 1, Math.max(0, Math.round(x[j]!)));
  }
  return x;
}

interface Point {
  x: Float64Array;
  value: number;
}

class LocalSearch {
  private readonly relaxed: number[];
  private readonly lower: number[];
  private readonly upper: number[];

  constructor(
    private readonly score: Scorer,
    private readonly dims: DimSpec[],
    private readonly feas: Feasible[],
  ) {
    this.relaxed = dims.flatMap((dim, j) => (dim.kind === 'continuous' || (dim.kind === 'grid' && feas[j]!.last - feas[j]!.first + 1 > LONG_GRID) ? [j] : []));
    this.lower = this.relaxed.map((j) => feas[j]!.lo);
    this.upper = this.relaxed.map((j) => feas[j]!.hi);
  }

  private gradientStep(p: Point): Point {
    const idx = this.relaxed;
    if (idx.length === 0) return p;
    const full = Float64Array.from(p.x);
    const f = (z: Float64Array) => {
      for (let i = 0; i < idx.length; i++) full[idx[i]!] = z[i]!;
      const r = this.score(full, true);
      const g = new Float64Array(idx.length);
      for (let i = 0; i < idx.length; i++) g[i] = -(r.grad?.[idx[i]!] ?? 0);
      return { value: Number.isFinite(r.value) ? -r.value : Infinity, grad: g };
    };
    const r = minimizeBox(f, idx.map((j) => p.x[j]!), { lower: this.lower, upper: this.upper, maxIter: 50, gtol: 1e-7, ftol: 1e-12 });
    const cand = Float64Array.from(p.x);
    for (let i = 0; i < idx.length; i++) cand[idx[i]!] = r.x[i]!;
    project(cand, this.dims, this.feas);
    const v = this.score(cand, false).value;
    return v > p.value ? { x: cand, value: v } : p;
  }

  private tryValue(p: Point, j: number, value: number): Point {
    if (value === p.x[j]) return p;
    const cand = Float64Array.from(p.x);
    cand[j] = value;
    const v = this.score(cand, false).value;
    return v > p.value ? { x: cand, value: v } : p;
  }

  /** Exhaustive over the choices / allowed levels, or (long grids) a doubling line search both ways from the current level. */
  private discreteStep(p: Point): Point {
    let best = p;
    for (let j = 0; j < this.dims.length; j++) {
      const dim = this.dims[j]!;
      if (dim.kind === 'categorical') {
        for (let c = 0; c < dim.choices!; c++) best = this.tryValue(best, j, c);
      } else if (dim.kind === 'grid') {
        const f = this.feas[j]!;
        const g = dim.grid!;
        if (f.last - f.first + 1 <= LONG_GRID) {
          for (let i = f.first; i <= f.last; i++) best = this.tryValue(best, j, g[i]!);
        } else {
          const at = nearestIndex(g, best.x[j]!);
          for (const dir of [-1, 1]) {
            for (let step = 1; ; step *= 2) {
              const i = at + dir * step;
              if (i < f.first || i > f.last) break;
              const next = this.tryValue(best, j, g[i]!);
              if (next === best) break;
              best = next;
            }
          }
        }
      }
    }
    return best;
  }

  run(start: Point): Point {
    let p = start;
    for (let round = 0; round < ROUNDS; round++) {
      const before = p.value;
      p = this.discreteStep(this.gradientStep(p));
      if (!(p.value > before + 1e-12 * Math.max(1, Math.abs(before)))) break;
    }
    return p;
  }
}

const key = (x: Float64Array) => Array.prototype.join.call(x, ',');

/** Returns the best point found (feasible, not excluded) and its score, or null if every candidate was excluded. */
export function optimizeAcquisition(score: Scorer, dims: DimSpec[], rng: Rng, opts: OptimizeOptions = {}): Point | null {
  const d = dims.length;
  const feas = feasibleSets(dims, opts.box);
  const nCand = opts.candidates ?? 2048;
  const nStarts = opts.starts ?? 10;
  const u = sobolPoints(d, 0, nCand, rng.uint32());
  const cands: Float64Array[] = [];
  for (let i = 0; i < nCand; i++) {
    const x = u.slice(i * d, (i + 1) * d);
    for (let j = 0; j < d; j++) {
      const f = feas[j]!;
      if (dims[j]!.kind === 'categorical') x[j] = Math.min(dims[j]!.choices! - 1, Math.floor(x[j]! * dims[j]!.choices!));
      else x[j] = f.lo + x[j]! * (f.hi - f.lo);
    }
    cands.push(project(x, dims, feas));
  }
  for (const a of opts.anchors ?? []) {
    for (let r = 0; r < 16; r++) {
      const c = Float64Array.from(a);
      const scale = r < 8 ? 0.02 : 0.1;
      for (let j = 0; j < d; j++) {
        if (dims[j]!.kind === 'categorical') {
          if (rng.uniform() < 1 / d) c[j] = rng.int(dims[j]!.choices!);
        } else c[j] = c[j]! + scale * rng.normal();
      }
      cands.push(project(c, dims, feas));
    }
    // Lines through the anchor along each axis: the one move a local search never makes is "this coordinate
    // elsewhere, the rest as they are" (another basin in one parameter), and the model may well predict it.
    for (let j = 0; j < d; j++) {
      if (dims[j]!.kind === 'categorical') continue;
      const f = feas[j]!;
      const shift = rng.uniform();
      for (let t = 0; t < LINE_POINTS; t++) {
        const c = Float64Array.from(a);
        c[j] = f.lo + ((t + shift) / LINE_POINTS) * (f.hi - f.lo);
        cands.push(project(c, dims, feas));
      }
    }
  }
  const scored: Point[] = [];
  for (const x of cands) {
    const v = score(x, false).value;
    if (Number.isFinite(v)) scored.push({ x, value: v });
  }
  scored.sort((a, b) => b.value - a.value);
  const starts: Point[] = [];
  const used = new Set<string>();
  for (const s of opts.seeds ?? []) {
    const x = project(Float64Array.from(s), dims, feas);
    const k = key(x);
    if (used.has(k)) continue;
    const v = score(x, false).value;
    if (!Number.isFinite(v)) continue;
    used.add(k);
    starts.push({ x, value: v });
    if (starts.length >= Math.max(1, nStarts >> 1)) break;
  }
  for (const p of scored) {
    if (starts.length >= nStarts) break;
    const k = key(p.x);
    if (used.has(k)) continue;
    used.add(k);
    starts.push(p);
  }
  const search = new LocalSearch(score, dims, feas);
  const results = starts.map((s) => search.run(s));
  results.push(...scored);
  results.sort((a, b) => b.value - a.value);
  for (const r of results) if (!opts.exclude?.(r.x)) return r;
  return null;
}
