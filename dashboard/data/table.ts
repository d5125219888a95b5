// The trial table's rows and their sort order (missing values always last, whatever the direction).
import { EARLIER_PICK, earlierPickRuns } from '../../src/shared/evidence.js';
import type { TrialRecord } from '../types.js';
import { trialName } from './trials.js';
import { trialWorker } from '../../src/shared/trained_on.js';

export type SortKey = 'number' | 'name' | 'state' | 'value' | 'duration' | 'worker' | `param:${string}`;

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
  /** Who trains it now (its lease's owner) or trained it to its end (`trainedBy`); null when nobody says (an outside trainer). */
  worker: string | null;
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
      worker: trialWorker(t),
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

/** Rows the trial table draws at a time: the 100,000 rows of a study at its largest budget took a minute to lay out. */
export const TABLE_PAGE_ROWS = 500;

export interface TablePage {
  rows: TableRow[];
  /** 0-based, clamped to the pages there are. */
  page: number;
  pages: number;
  /** Index of the page's first row among all rows. */
  first: number;
  total: number;
}

/** Page `page` of `rows` (sorted already), `size` rows a page; a page past the end is the last one. */
export function tablePage(rows: readonly TableRow[], page: number, size = TABLE_PAGE_ROWS): TablePage {
  const pages = Math.max(1, Math.ceil(rows.length / size));
  const p = Math.min(Math.max(0, Math.floor(page)), pages - 1);
  return { rows: rows.slice(p * size, (p + 1) * size), page: p, pages, first: p * size, total: rows.length };
}

/** The page of `rows` that holds trial `id`, or null when no row is that trial. */
export function pageOf(rows: readonly TableRow[], id: number, size = TABLE_PAGE_ROWS): number | null {
  const i = rows.findIndex((r) => r.id === id);
  return i < 0 ? null : Math.floor(i / size);
}

/** Whether the table has a worker column: only where trials name two or more (one local run's every trial names it). */
export function showsWorkers(rows: readonly TableRow[]): boolean {
  const seen = new Set<string>();
  for (const r of rows) if (r.worker !== null && seen.add(r.worker).size > 1) return true;
  return false;
}
