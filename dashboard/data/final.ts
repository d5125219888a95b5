// Final validation for the page: paired differences (tuned − baseline per seed, with their interval and verdict), or an older study's unpaired bars.
import { comparisonSentence, formatCi, formatDiff, multiplierLabel, readFinalValidation, verdictPhrase, type Comparison, type FinalReading, type Verdict } from '../../src/shared/evidence.js';
import type { Series, StudyView } from '../types.js';
import { BASELINE_LABELS } from '../../src/shared/roles.js';
import { withAlpha } from './palette.js';

export const VERDICT_COLORS: Record<Verdict, string> = { better: '#059669', worse: '#dc2626', indistinguishable: '#64748b' };

export interface FinalRow {
  label: string;
  mean: number;
  lo: number | null;
  hi: number | null;
  n: number;
  verdict: Verdict | null;
  sentence: string | null;
}

export interface FinalData {
  /** `paired`: differences tuned − baseline; `unpaired`: a study stored before pairing (arm means, no verdict). */
  kind: 'paired' | 'unpaired';
  fraction: boolean;
  labels: string[];
  datasets: Series[];
  rows: FinalRow[];
  /** Said under the chart: the verdicts in words, what is provisional, what an old report cannot tell. */
  notes: string[];
}

/** Null when the study has no final validation yet. */
export function finalData(fv: StudyView['finalValidation'] | Record<string, never>): FinalData | null {
  const r = readFinalValidation(fv);
  if (!r) return null;
  return r.paired ? pairedData(r) : unpairedData(r);
}

/** `vs paper`, `vs paper ×4`: short enough for an axis; the run length in steps is in the notes. */
function comparisonLabel(c: Comparison, multiplier: number): string {
  return `vs ${BASELINE_LABELS[c.b].short}${multiplier === 1 ? '' : ` ×${multiplier}`}`;
}

function pairedData(r: FinalReading): FinalData | null {
  const rows: FinalRow[] = [];
  const seeds: Array<{ x: string; y: number; name: string }> = [];
  const notes: string[] = [];
  for (const g of r.groups) {
    for (const c of g.comparisons) {
      if (c.meanDiff === null) continue;
      const label = comparisonLabel(c, g.multiplier);
      rows.push({ label, mean: c.meanDiff, lo: c.ci?.[0] ?? null, hi: c.ci?.[1] ?? null, n: c.n, verdict: c.verdict, sentence: comparisonSentence(c, r.fraction) });
      c.diffs.forEach((d, i) => {
        if (d !== null) seeds.push({ x: label, y: d, name: `seed ${r.seeds[i] ?? i}: ${formatDiff(d, r.fraction)}` });
      });
      const m = multiplierLabel(g);
      notes.push(`Tuned vs ${BASELINE_LABELS[c.b].short}${m ? ` at ${m}` : ''}: ${comparisonSentence(c, r.fraction)}.`);
    }
  }
  if (rows.length === 0) return null;
  if (r.pending > 0) notes.push(`Provisional: ${r.pending} final run${r.pending === 1 ? '' : 's'} still to finish.`);
  const labels = rows.map((x) => x.label);
  return {
    kind: 'paired',
    fraction: r.fraction,
    labels,
    rows,
    notes,
    datasets: [
      {
        label: '95% CI of the mean difference',
        data: rows.map((x) => (x.lo === null || x.hi === null ? null : [x.lo, x.hi] as [number, number])),
        type: 'bar',
        backgroundColor: rows.map((x) => withAlpha(VERDICT_COLORS[x.verdict ?? 'indistinguishable'], 0.22)),
        borderColor: rows.map((x) => VERDICT_COLORS[x.verdict ?? 'indistinguishable']),
        borderWidth: 1,
        order: 3,
      },
      { label: 'mean difference', data: rows.map((x) => ({ x: x.label, y: x.mean, name: `mean difference ${formatDiff(x.mean, r.fraction)}` })), type: 'scatter', pointStyle: 'line', pointRadius: 22, borderWidth: 3, borderColor: '#111827', backgroundColor: '#111827', order: 0 },
      { label: 'per-seed difference', data: seeds, type: 'scatter', pointRadius: 4, backgroundColor: withAlpha('#2563eb', 0.7), borderColor: '#1e3a8a', order: 1 },
      { label: 'no difference', data: labels.map((x) => ({ x, y: 0 })), type: 'line', borderColor: '#111827', borderDash: [4, 4], borderWidth: 1, pointRadius: 0, order: 2 },
    ],
  };
}

function unpairedData(r: FinalReading): FinalData | null {
  const g = r.groups[0]!;
  const entries = [
    [BASELINE_LABELS.batchnorm.title, g.arms.batchnorm],
    [BASELINE_LABELS.paper.title, g.arms.paper],
    ['Best schedule', g.arms.best],
  ] as const;
  const present = entries.filter((e) => !!e[1] && e[1].mean !== null);
  if (present.length === 0) return null;
  const labels = present.map((e) => e[0]);
  return {
    kind: 'unpaired',
    fraction: true,
    labels,
    rows: present.map(([label, s]) => ({ label, mean: s!.mean!, lo: s!.ci?.[0] ?? null, hi: s!.ci?.[1] ?? null, n: s!.n, verdict: null, sentence: null })),
    notes: ['Stored before final validation was paired: each schedule ran on its own seeds, so no verdict is drawn from these bars.'],
    datasets: [
      { label: '95% confidence interval', data: present.map(([, s]) => (s!.ci ? [s!.ci[0], s!.ci[1]] as [number, number] : null)), type: 'bar', backgroundColor: withAlpha('#64748b', 0.18), borderColor: '#475569', borderWidth: 1, order: 2 },
      { label: 'mean', data: present.map(([name, s]) => ({ x: name, y: s!.mean! })), type: 'scatter', pointStyle: 'line', pointRadius: 22, borderWidth: 3, borderColor: '#111827', backgroundColor: '#111827', order: 0 },
      { label: 'per-seed result', data: present.flatMap(([name, s]) => s!.values.filter((y): y is number => typeof y === 'number' && Number.isFinite(y)).map((y) => ({ x: name, y }))), type: 'scatter', pointRadius: 4, backgroundColor: withAlpha('#2563eb', 0.7), borderColor: '#1e3a8a', order: 1 },
    ],
  };
}

export interface VerdictCard {
  label: string;
  value: string;
  sub: string;
  /** `good`, `bad` or '' (neutral): colour only what the interval supports. */
  cls: string;
}

/**
 * The headline cards of the retrained comparison at the study's run length: the verdict in words, coloured only when
 * the interval excludes 0. An older unpaired report gets one neutral card.
 */
export function verdictCards(fv: StudyView['finalValidation']): VerdictCard[] {
  const r = readFinalValidation(fv);
  if (!r) return [];
  const own = r.groups.find((g) => g.multiplier === 1) ?? r.groups[0]!;
  if (!r.paired) {
    const best = own.arms.best?.mean ?? null;
    const bn = own.arms.batchnorm?.mean ?? null;
    if (best === null || bn === null) return [];
    return [{ label: 'Test set, retrained', value: formatDiff(best - bn, true), sub: 'best vs BatchNorm means; older study, unpaired seeds: no verdict', cls: '' }];
  }
  const provisional = r.pending > 0 ? ' (provisional)' : '';
  return [...own.comparisons]
    .sort((a, b) => (a.b === b.b ? 0 : a.b === 'batchnorm' ? -1 : 1))
    .map((c) => {
      const phrase = verdictPhrase(c);
      const ci = formatCi(c.ci, r.fraction);
      return {
        label: `Tuned vs ${BASELINE_LABELS[c.b].short}, test set${provisional}`,
        value: phrase.charAt(0).toUpperCase() + phrase.slice(1, phrase.indexOf(c.verdict === 'indistinguishable' ? ' from' : ' than')),
        sub: `${formatDiff(c.meanDiff, r.fraction)}, ${ci}, ${c.n} paired seeds`,
        cls: c.verdict === 'better' ? 'good' : c.verdict === 'worse' ? 'bad' : '',
      };
    });
}
