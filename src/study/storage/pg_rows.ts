// PgStorage's rows as they come from node-postgres (json as text, int8 as numbers, timestamptz as ISO strings) and the records they become.
import { studyRecord, trialRecord, type StoredJson, type StudyColumns, type TrialColumns, type ValueRow } from './records.js';
import type { StudyRecord, TrialRecord } from '../types.js';

export type { StoredJson, ValueRow };

export interface StudyRow extends StudyColumns { created_at: string; clock_tick_ms: number | null; revision: number }
export interface TrialRow extends TrialColumns {
  created_at: string; started_at: string | null; finished_at: string | null; prune_requested: boolean; lease_expires: string | null;
  /** The study revision of the row's last change (migration 4). */
  rev: number;
}

const EPOCH = new Date(0).toISOString();

export function toStudy(row: StudyRow, attrRows: { key: string; value: string }[], json: StoredJson): StudyRecord {
  return studyRecord(row, attrRows, json, row.created_at);
}

export function toTrial(row: TrialRow, values: ValueRow[], json: StoredJson): TrialRecord {
  return trialRecord(row, values, json, {
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    leaseExpiresAt: row.lease_expires ?? EPOCH,
    pruneRequested: row.prune_requested,
  });
}
