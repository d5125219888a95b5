// The trial table's rows and their sort order (missing values always last, whatever the direction).
import { EARLIER_PICK, earlierPickRuns } from '../../src/shared/evidence.js';
import type { TrialRecord } from '../types.js';
import { trialName } from './trials.js';

export type SortKey = 'number' | 'name' | 'state' | 'value' | 'duration' | `param:${string}`;

export interface TableRow {
  id: number;
  number: number;
  name: string;
  state: string;
  value: number | null;
  /** Seconds from start to finish, null while running or never started. */
  duration: number | null;
  params: Record<string, number | string>;
  failureReason: string | null;
}

/** `finalValidation`: the study's report, so the best arm's runs of an earlier pick say so (see earlierPickRuns). */
export function tableRows(trials: readonly TrialRecord[], finalValidation: unknown = null): TableRow[] {
  const earlier = earlierPickRuns(trials, finalValidation);
  return trials.map((t) => {
    const s = t.startedAt ? Date.parse(t.startedAt) : NaN;
    const f = t.finishedAt ? Date.parse(t.finishedAt) : NaN;
    return {
      id: t.id,
      number: t.number,
      name: earlier.has(t.id) ? `${trialName(t)} (${EARLIER_PICK})` : trialName(t),
      state: t.state,
      value: typeof t.value === 'number' && Number.isFinite(t.value) ? t.value : null,
      duration: Number.isFinite(s) && Number.isFinite(f) ? (f - s) / 1000 : null,
      params: t.params ?? {},
      failureReason: t.failureReason,
    };
  });
}

function keyOf(row: TableRow, key: SortKey): number | string | null {
  if (key.startsWith('param:')) {
    const v = row.params[key.slice(6)];
    return v === undefined ? null : v;
  }
  return row[key as Exclude<SortKey, `param:${string}`>];
}

/** A stable sort by `key`; ties keep trial order, and null/undefined values go to the end in both directions. */
export function sortRows(rows: readonly TableRow[], key: SortKey, ascending: boolean): TableRow[] {
  return [...rows].sort((a, b) => {
    const va = keyOf(a, key);
    const vb = keyOf(b, key);
    if (va === null && vb === null) return a.number - b.number;
    if (va === null) return 1;
    if (vb === null) return -1;
    let c: number;
    if (typeof va === 'number' && typeof vb === 'number') c = va - vb;
    else c = String(va).localeCompare(String(vb), undefined, { numeric: true });
    if (c === 0) return a.number - b.number;
    return ascending ? c : -c;
  });
}
