// One colour vocabulary for every chart: baselines and states always look the same, trials get distinct hues.
import type { TrialState } from '../types.js';

export const COLORS = {
  batchnorm: '#6b7280',
  paper: '#9333ea',
  best: '#059669',
  bestSoFar: '#047857',
  grid: '#e5e7eb',
} as const;

export const STATE_COLORS: Record<TrialState, string> = {
  COMPLETE: '#2563eb',
  PRUNED: '#f59e0b',
  FAIL: '#dc2626',
  RUNNING: '#94a3b8',
  WAITING: '#cbd5e1',
};

const HUES = ['#2563eb', '#059669', '#d97706', '#db2777', '#0891b2', '#65a30d', '#7c3aed', '#ea580c', '#0d9488', '#be123c'];

/** Colour of the i-th ranked trial (the best is always green, like the best-so-far line). */
export function rankColor(i: number): string {
  return i === 0 ? COLORS.best : HUES[i % HUES.length];
}

/** A perceptually ordered ramp (viridis-like) for colouring by value, u in [0, 1], 1 = best. */
export function valueColor(u: number, alpha = 1): string {
  const stops = [
    [68, 1, 84],
    [59, 82, 139],
    [33, 145, 140],
    [94, 201, 98],
    [253, 231, 37],
  ];
  const v = Math.min(1, Math.max(0, Number.isFinite(u) ? u : 0)) * (stops.length - 1);
  const i = Math.min(Math.floor(v), stops.length - 2);
  const f = v - i;
  const c = stops[i].map((s, k) => Math.round(s + (stops[i + 1][k] - s) * f));
  return `rgba(${c[0]}, ${c[1]}, ${c[2]}, ${alpha})`;
}

/** Same colour with an alpha, for fills and bands. */
export function withAlpha(hex: string, alpha: number): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}
