// Maximizes an acquisition over a mixed box: scrambled-Sobol screening, then gradient polish on continuous dims and discrete local search.
//
// Integers are a grid of encoded positions (kernel inputs are always snapped to it, so the GP never sees a
// fractional integer); short grids and categoricals are searched by trying neighbours / every choice, as
// Optuna's optim_mixed does; long grids (> 32 levels) are relaxed for the gradient step and then snapped.
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

export interface OptimizeOptions {
  /** Sobol screening points (default 1024). */
  candidates?: number;
  /** Best screened points to polish (default 5). */
  starts?: number;
  /** Points to perturb locally for extra candidates (e.g. the best observations). */
  anchors?: Float64Array[];
  /** Points that must not be returned (already observed, pending, or earlier in the batch), compared after snapping. */
  exclude?: (x: Float64Array) => boolean;
}

const LONG_GRID = 32;

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

function localSearch(x0: Float64Array, v0: number, score: Scorer, dims: DimSpec[], exclude?: (x: Float64Array) => boolean): { x: Float64Array; value: number } {
  const d = dims.length;
  let x = Float64Array.from(x0);
  let value = v0;
  const relax = dims.map((dim) => dim.kind === 'continuous' || (dim.kind === 'grid' && dim.grid!.length > LONG_GRID));
  const nRelax = relax.filter(Boolean).length;
  for (let round = 0; round < 4; round++) {
    const before = value;
    if (nRelax > 0) {
      const idx = relax.flatMap((r, j) => (r ? [j] : []));
      const lower = idx.map((j) => (dims[j]!.kind === 'grid' ? dims[j]!.grid![0]! : 0));
      const upper = idx.map((j) => (dims[j]!.kind === 'grid' ? dims[j]!.grid![dims[j]!.grid!.length - 1]! : 1));
      const full = Float64Array.from(x);
      const f = (z: Float64Array) => {
        for (let i = 0; i < idx.length; i++) full[idx[i]!] = z[i]!;
        const r = score(full, true);
        const g = new Float64Array(idx.length);
        for (let i = 0; i < idx.length; i++) g[i] = -(r.grad?.[idx[i]!] ?? 0);
        return { value: -r.value, grad: g };
      };
      const r = minimizeBox(f, idx.map((j) => x[j]!), { lower, upper, maxIter: 40, gtol: 1e-7, ftol: 1e-12 });
      const cand = Float64Array.from(x);
      for (let i = 0; i < idx.length; i++) cand[idx[i]!] = r.x[i]!;
      snapPoint(cand, dims, false);
      const v = score(cand, false).value;
      if (v > value && !exclude?.(cand)) {
        x = cand;
        value = v;
      }
    }
    for (let j = 0; j < d; j++) {
      const dim = dims[j]!;
      const options: number[] = [];
      if (dim.kind === 'categorical') for (let c = 0; c < dim.choices!; c++) options.push(c);
      else if (dim.kind === 'grid') {
        const i = nearestIndex(dim.grid!, x[j]!);
        if (i > 0) options.push(dim.grid![i - 1]!);
        if (i < dim.grid!.length - 1) options.push(dim.grid![i + 1]!);
      }
      for (const o of options) {
        if (o === x[j]) continue;
        const cand = Float64Array.from(x);
        cand[j] = o;
        const v = score(cand, false).value;
        if (v > value && !exclude?.(cand)) {
          x = cand;
          value = v;
        }
      }
    }
    if (!(value > before + 1e-12 * Math.max(1, Math.abs(before)))) break;
  }
  return { x, value };
}

/** Returns the best point found (snapped to the feasible set) and its score, or null if every candidate was excluded. */
export function optimizeAcquisition(score: Scorer, dims: DimSpec[], rng: Rng, opts: OptimizeOptions = {}): { x: Float64Array; value: number } | null {
  const d = dims.length;
  const nCand = opts.candidates ?? 1024;
  const nStarts = opts.starts ?? 5;
  const pts = sobolPoints(d, 0, nCand, rng.uint32());
  const cands: Float64Array[] = [];
  for (let i = 0; i < nCand; i++) cands.push(snapPoint(pts.slice(i * d, (i + 1) * d), dims, true));
  // Local perturbations of the anchors: Sobol alone rarely lands close enough to a sharp optimum.
  for (const a of opts.anchors ?? []) {
    for (let r = 0; r < 16; r++) {
      const c = Float64Array.from(a);
      const scale = r < 8 ? 0.02 : 0.1;
      for (let j = 0; j < d; j++) {
        if (dims[j]!.kind === 'categorical') {
          if (rng.uniform() < 1 / d) c[j] = rng.int(dims[j]!.choices!);
        } else c[j] = c[j]! + scale * rng.normal();
      }
      cands.push(snapPoint(c, dims, false));
    }
  }
  const scored: { x: Float64Array; value: number }[] = [];
  for (const x of cands) {
    if (opts.exclude?.(x)) continue;
    const v = score(x, false).value;
    if (Number.isFinite(v)) scored.push({ x, value: v });
  }
  if (scored.length === 0) return null;
  scored.sort((a, b) => b.value - a.value);
  let best = scored[0]!;
  for (let s = 0; s < Math.min(nStarts, scored.length); s++) {
    const r = localSearch(scored[s]!.x, scored[s]!.value, score, dims, opts.exclude);
    if (r.value > best.value) best = r;
  }
  return best;
}
