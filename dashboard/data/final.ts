// Final validation: BatchNorm vs paper vs best schedule retrained on fresh seeds, as means with confidence-interval bars.
import type { FinalScore, Series, StudyView } from '../types.js';
import { COLORS, withAlpha } from './palette.js';

export interface FinalData {
  labels: string[];
  datasets: Series[];
  rows: Array<{ name: string; mean: number; lo: number; hi: number; n: number }>;
}

/** Null when the study has no final validation yet; otherwise a CI bar, the per-seed values and the mean per schedule. */
export function finalData(fv: StudyView['finalValidation']): FinalData | null {
  if (!fv) return null;
  const entries: Array<[string, FinalScore | undefined, string]> = [
    ['BatchNorm', fv.batchnorm, COLORS.batchnorm],
    ['Paper (Ioffe 2017)', fv.paper, COLORS.paper],
    ['Best schedule', fv.best, COLORS.best],
  ];
  const present = entries.filter((e): e is [string, FinalScore, string] => !!e[1] && Number.isFinite(e[1].mean));
  if (present.length === 0) return null;
  const labels = present.map((e) => e[0]);
  const ci: [number, number][] = present.map(([, s]) => [s.ci[0], s.ci[1]]);
  const seeds = present.flatMap(([name, s]) => s.values.filter(Number.isFinite).map((y) => ({ x: name, y })));
  const means = present.map(([name, s]) => ({ x: name, y: s.mean }));
  return {
    labels,
    rows: present.map(([name, s]) => ({ name, mean: s.mean, lo: s.ci[0], hi: s.ci[1], n: s.values.length })),
    datasets: [
      {
        label: '95% confidence interval',
        data: ci,
        type: 'bar',
        backgroundColor: withAlpha('#64748b', 0.18),
        borderColor: '#475569',
        borderWidth: 1,
        order: 2,
      },
      { label: 'mean', data: means, type: 'scatter', pointStyle: 'line', pointRadius: 22, borderWidth: 3, borderColor: '#111827', backgroundColor: '#111827', order: 0 },
      { label: 'per-seed result', data: seeds, type: 'scatter', pointRadius: 4, backgroundColor: withAlpha('#2563eb', 0.7), borderColor: '#1e3a8a', order: 1 },
    ],
  };
}
