// CSV of a study's trials: one row per trial, one column per parameter, safe to open in a spreadsheet; the dashboard's download and `show --csv` write it.
import type { TrialRecord } from '../study/types.js';
import { describeSchedule } from './describe.js';
import { trainedOn, trialWorker } from './trained_on.js';

/**
 * Quotes per RFC 4180 and defuses spreadsheet formulas: a text cell starting with = + - @ (or a tab/CR) gets a leading
 * apostrophe, because study names and failure reasons are user input. Numbers are written as numbers.
 */
export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  let s = typeof v === 'string' ? v : JSON.stringify(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function trialsCsv(trials: readonly TrialRecord[]): string {
  const paramNames: string[] = [];
  for (const t of trials) for (const k of Object.keys(t.params ?? {})) if (!paramNames.includes(k)) paramNames.push(k);
  const header = ['id', 'number', 'role', 'state', 'value', ...paramNames.map((p) => `param_${p}`), 'schedule', 'failure_reason', 'seed', 'started_at', 'finished_at', 'backend', 'device', 'worker'];
  const rows = [...trials]
    .sort((a, b) => a.number - b.number)
    .map((t) => [t.id, t.number, t.role, t.state, t.value, ...paramNames.map((p) => t.params?.[p]), describeSchedule(t.schedule), t.failureReason, t.seed, t.startedAt, t.finishedAt, ...trainedColumns(t)]);
  return [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

/** backend, device and worker: what a trial trained on and who trained it, as far as it says (empty cells if not). */
function trainedColumns(t: TrialRecord): [string | null, string | null, string | null] {
  const on = trainedOn(t.metrics);
  return [on?.backend ?? null, on && on.device !== 'unknown' ? on.device : null, trialWorker(t)];
}
