// When the global GP stalls, hand over to a TuRBO-style trust region (Eriksson et al. 2019) around the incumbent, with its own local GP.
//
// The state is a pure function of the observation sequence (replayed on every ask, O(n)), so an optimizer
// rebuilt from storage is in the same mode as the live one. Each observation after the initial design is
// attributed to the mode the machine was in when it arrived:
//   global: count observations since the best value last improved; after `stallAfter(d)` of them the global
//           model has stalled and a trust region of side INITIAL_LENGTH opens around the incumbent.
//   local:  TuRBO's schedule: SUCCESS_STREAK improvements in a row double the side (up to MAX_LENGTH),
//           failStreak(d) failures in a row halve it; below MIN_LENGTH the region has converged, and control
//           returns to the global model.
// Why a local model: a stationary GP fitted to a whole multimodal landscape (a bowl with ripples, two basins per
// dimension) smooths the ripples into noise and can never place a point precisely in one; fitted to the points
// around the incumbent it learns the local lengthscales and converges on that basin.
import type { DimSpec, SearchBox } from '../gp/optimize_acqf.js';

export const INITIAL_LENGTH = 0.8;
export const MIN_LENGTH = 0.8 / 32;
export const MAX_LENGTH = 1.6;
export const SUCCESS_STREAK = 3;

/** Observations without improvement before the global model counts as stalled. */
export function stallAfter(d: number): number {
  return Math.max(4, Math.ceil(d / 2));
}

/** Local failures in a row that halve the region (TuRBO: max(4, d), shortened here for budgets of tens of evaluations). */
export function failStreak(d: number): number {
  return Math.max(3, Math.ceil(d / 2));
}

export interface TrustRegionState {
  mode: 'global' | 'local';
  /** Side of the region as a fraction of the unit box (meaningful in local mode). */
  length: number;
  /** How many times a region opened (statistics). */
  opened: number;
}

/** Relative improvement that counts as progress (TuRBO's 1e-3). */
function improves(v: number, best: number, scale: number): boolean {
  return v < best - 1e-3 * scale;
}

/**
 * Replays the machine over `raw` (values to minimize, null for failed trials) after the first `initial` points.
 */
export function trustRegionState(raw: readonly (number | null)[], initial: number, d: number): TrustRegionState {
  let best = Infinity;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < Math.min(initial, raw.length); i++) {
    const v = raw[i];
    if (v === null || v === undefined) continue;
    best = Math.min(best, v);
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const state: TrustRegionState = { mode: 'global', length: INITIAL_LENGTH, opened: 0 };
  let since = 0;
  let succ = 0;
  let fail = 0;
  for (let i = initial; i < raw.length; i++) {
    const v = raw[i];
    const ok = v !== null && v !== undefined && improves(v, best, Math.max(hi - lo, Math.abs(best), 1e-12));
    if (v !== null && v !== undefined) {
      best = Math.min(best, v);
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    if (state.mode === 'global') {
      since = ok ? 0 : since + 1;
      if (since >= stallAfter(d)) {
        state.mode = 'local';
        state.length = INITIAL_LENGTH;
        state.opened++;
        succ = fail = 0;
      }
      continue;
    }
    if (ok) {
      succ++;
      fail = 0;
    } else {
      fail++;
      succ = 0;
    }
    if (succ >= SUCCESS_STREAK) {
      state.length = Math.min(2 * state.length, MAX_LENGTH);
      succ = 0;
    }
    if (fail >= failStreak(d)) {
      state.length /= 2;
      fail = 0;
    }
    if (state.length < MIN_LENGTH) {
      state.mode = 'global';
      since = 0;
    }
  }
  return state;
}

/**
 * The region's box around `center`: side `length` scaled per dim by the lengthscales (TuRBO: long where the
 * model varies slowly), normalized to keep the volume of a cube of side `length`. Categoricals stay free.
 */
export function trustRegionBox(center: Float64Array, lengthscales: Float64Array, length: number, dims: DimSpec[]): SearchBox {
  const d = dims.length;
  const numeric = dims.flatMap((dim, j) => (dim.kind === 'categorical' ? [] : [j]));
  let logMean = 0;
  for (const j of numeric) logMean += Math.log(lengthscales[j]!);
  logMean /= Math.max(1, numeric.length);
  const lower = new Float64Array(d).fill(0);
  const upper = new Float64Array(d).fill(1);
  for (const j of numeric) {
    // Weights clipped so one very long lengthscale (an inert dim) cannot squeeze the others to nothing.
    const w = Math.min(4, Math.max(0.25, Math.exp(Math.log(lengthscales[j]!) - logMean)));
    const half = (w * length) / 2;
    lower[j] = Math.max(0, center[j]! - half);
    upper[j] = Math.min(1, center[j]! + half);
  }
  return { lower, upper };
}
