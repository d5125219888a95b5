// Clip fractions: how often r and d hit their clips in each renorm layer over one trial's training.
import type { Series, TrialRecord } from '../types.js';
import { lttb } from './decimate.js';

const LAYER_COLORS = ['#2563eb', '#d97706', '#059669', '#db2777', '#7c3aed', '#0891b2'];

export interface ClipData {
  /** r and d series interleaved per layer (r solid, d dashed). */
  datasets: Series[];
  r: Series[];
  d: Series[];
  layers: string[];
}

interface ClipEntry {
  layer: string;
  r: number;
  d: number;
}

function clipEntries(raw: unknown): ClipEntry[] {
  if (!Array.isArray(raw)) return [];
  return raw.filter(
    (c): c is ClipEntry => !!c && typeof c === 'object' && typeof (c as ClipEntry).layer === 'string' && typeof (c as ClipEntry).r === 'number' && typeof (c as ClipEntry).d === 'number',
  );
}

/** One series per layer for r (solid) and d (dashed); empty when the trial reported no clip statistics. */
export function clipData(trial: Pick<TrialRecord, 'intermediate'>, maxPoints = 200): ClipData {
  const byLayer = new Map<string, { r: Array<{ x: number; y: number }>; d: Array<{ x: number; y: number }> }>();
  const sorted = [...trial.intermediate].sort((a, b) => a.step - b.step);
  for (const iv of sorted) {
    for (const c of clipEntries(iv.metrics?.clip)) {
      let e = byLayer.get(c.layer);
      if (!e) byLayer.set(c.layer, (e = { r: [], d: [] }));
      if (Number.isFinite(c.r)) e.r.push({ x: iv.step, y: c.r });
      if (Number.isFinite(c.d)) e.d.push({ x: iv.step, y: c.d });
    }
  }
  const r: Series[] = [];
  const d: Series[] = [];
  const layers = [...byLayer.keys()];
  layers.forEach((layer, i) => {
    const e = byLayer.get(layer)!;
    const color = LAYER_COLORS[i % LAYER_COLORS.length];
    r.push({ label: `${layer}: r clipped`, data: lttb(e.r, maxPoints), type: 'line', borderColor: color, borderWidth: 2, pointRadius: 0 });
    d.push({ label: `${layer}: d clipped`, data: lttb(e.d, maxPoints), type: 'line', borderColor: color, borderDash: [5, 4], borderWidth: 2, pointRadius: 0 });
  });
  return { datasets: r.flatMap((s, i) => [s, d[i]]), r, d, layers };
}
