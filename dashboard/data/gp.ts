// The GP's view along one parameter: posterior mean ± 2 std as a band and the acquisition on a second axis.
import type { GpView, Series } from '../types.js';
import { withAlpha } from './palette.js';

type Slice = NonNullable<GpView['slices']>[number];

export interface GpSliceData {
  name: string;
  categorical: boolean;
  log: boolean;
  labels?: string[];
  datasets: Series[];
}

/** Chart datasets of one slice; the band is two lines filled between each other. */
export function gpSliceData(slice: Slice, center?: Record<string, number | string>): GpSliceData {
  const categorical = slice.type === 'categorical';
  const xs = slice.x.map((x) => (categorical ? String(x) : Number(x)));
  const pts = (ys: number[]) => ys.map((y, i) => ({ x: xs[i], y: Number.isFinite(y) ? y : null }));
  const upper = slice.mean.map((m, i) => m + 2 * slice.std[i]);
  const lower = slice.mean.map((m, i) => m - 2 * slice.std[i]);
  const datasets: Series[] = [
    { label: 'mean + 2 std', data: pts(upper), type: 'line', borderColor: withAlpha('#2563eb', 0.25), borderWidth: 1, pointRadius: 0, fill: false, yAxisID: 'y' },
    { label: 'mean − 2 std', data: pts(lower), type: 'line', borderColor: withAlpha('#2563eb', 0.25), borderWidth: 1, pointRadius: 0, fill: '-1', backgroundColor: withAlpha('#2563eb', 0.15), yAxisID: 'y' },
    { label: 'posterior mean', data: pts(slice.mean), type: 'line', borderColor: '#2563eb', borderWidth: 2, pointRadius: categorical ? 4 : 0, yAxisID: 'y' },
    { label: 'acquisition', data: pts(slice.acquisition), type: 'line', borderColor: '#d97706', borderDash: [4, 3], borderWidth: 1.5, pointRadius: categorical ? 3 : 0, yAxisID: 'y2' },
  ];
  const c = center?.[slice.name];
  if (c !== undefined) {
    // Where the slice passes through the best point.
    const i = slice.x.findIndex((x) => x === c);
    const y = i >= 0 ? slice.mean[i] : null;
    if (y !== null) datasets.push({ label: 'best point', data: [{ x: categorical ? String(c) : Number(c), y }], type: 'scatter', pointRadius: 6, backgroundColor: '#059669', borderColor: '#064e3b', yAxisID: 'y' });
  }
  return { name: slice.name, categorical, log: slice.log === true, labels: categorical ? (xs as string[]) : undefined, datasets };
}
