// PgStorage's rows as they come from node-postgres (json as text, int8 as numbers, timestamptz as Date) and the records they become.
import { studyRecord, trialRecord, type StoredJson, type StudyColumns, type TrialColumns, type ValueRow } from './records.js';
import type { StudyRecord, TrialRecord } from '../types.js';

export type { StoredJson, ValueRow };

export interface StudyRow extends StudyColumns { created_at: Date; clock_tick_ms: number | null; revision: number }
export interface TrialRow extends TrialColumns {
  created_at: Date; started_at: Date | null; finished_at: Date | null; prune_requested: boolean; lease_expires: Date | null;
}

export function toStudy(row: StudyRow, attrRows: { key: string; value: string }[], json: StoredJson): StudyRecord {
  return studyRecord(row, attrRows, json, row.created_at.toISOString());
}

export function toTrial(row: TrialRow, values: ValueRow[], json: StoredJson): TrialRecord {
  return trialRecord(row, values, json, {
    createdAt: row.created_at.toISOString(),
    startedAt: row.started_at?.toISOString() ?? null,
    finishedAt: row.finished_at?.toISOString() ?? null,
    leaseExpiresAt: (row.lease_expires ?? new Date(0)).toISOString(),
    pruneRequested: row.prune_requested,
  });
}
