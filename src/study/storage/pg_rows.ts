// PgStorage's rows as they come from node-postgres (json as text, int8 as numbers, timestamptz as Date) and the records they become.
import type { TrialRole } from '../../shared/roles.js';
import type { Direction, StudyRecord, StudyState, TrialRecord, TrialState } from '../types.js';

/** Reads one stored JSON column, never failing: `readStoredJson` with the storage's warning. */
export type StoredJson = <T>(text: string, what: string, fallback: T) => T;

export interface StudyRow {
  id: string; name: string; direction: Direction; state: StudyState; config: string; created_at: Date; search_seconds: number;
  clock_tick_ms: number | null; revision: number;
}
export interface TrialRow {
  id: number; study_id: string; number: number; state: TrialState; role: string; params: string; schedule: string;
  value: number | null; failure_reason: string | null; seed: number; metrics: string | null; created_at: Date;
  started_at: Date | null; finished_at: Date | null; prune_requested: boolean; retries: number;
  lease_owner: string | null; lease_token: number; lease_expires: Date | null;
}
export interface ValueRow { trial_id: number; step: number; value: number; metrics: string | null }

export function toStudy(row: StudyRow, attrRows: { key: string; value: string }[], json: StoredJson): StudyRecord {
  const attrs: Record<string, unknown> = {};
  for (const a of attrRows) attrs[a.key] = json(a.value, `study ${row.id} attribute ${a.key}`, null);
  return {
    id: row.id, name: row.name, direction: row.direction, state: row.state, config: json(row.config, `study ${row.id} config`, {}),
    attrs, searchSeconds: row.search_seconds, createdAt: row.created_at.toISOString(),
  };
}

export function toTrial(row: TrialRow, values: ValueRow[], json: StoredJson): TrialRecord {
  const what = `trial ${row.id}`;
  return {
    id: row.id,
    studyId: row.study_id,
    number: row.number,
    state: row.state,
    role: row.role as TrialRole,
    params: json(row.params, `${what} params`, {}),
    schedule: json(row.schedule, `${what} schedule`, { kind: 'batchnorm' }),
    value: row.value,
    failureReason: row.failure_reason,
    seed: row.seed,
    metrics: row.metrics === null ? null : json(row.metrics, `${what} metrics`, null),
    intermediate: values.map((v) => {
      if (v.metrics === null) return { step: v.step, value: v.value };
      const metrics = json<Record<string, unknown> | null>(v.metrics, `${what} step ${v.step} metrics`, null);
      return metrics === null ? { step: v.step, value: v.value } : { step: v.step, value: v.value, metrics };
    }),
    lease: row.state === 'RUNNING' && row.lease_owner !== null
      ? { owner: row.lease_owner, token: row.lease_token, expiresAt: (row.lease_expires ?? new Date(0)).toISOString() }
      : null,
    retries: row.retries,
    pruneRequested: row.prune_requested,
    createdAt: row.created_at.toISOString(),
    startedAt: row.started_at?.toISOString() ?? null,
    finishedAt: row.finished_at?.toISOString() ?? null,
  };
}
