// The one mapping from stored rows to records, for every SQL store: JSON columns go through the store's `StoredJson`
// reader (never failing on a damaged value), and each store hands over its own time and flag columns already converted.
import type { TrialRole } from '../../shared/roles.js';
import type { Direction, StudyRecord, StudyState, TrialRecord, TrialState } from '../types.js';

/** Reads one stored JSON column, never failing: `readStoredJson` with the storage's warning. */
export type StoredJson = <T>(text: string, what: string, fallback: T) => T;

/** The study columns every SQL store shares (times are the store's own and come in converted). */
export interface StudyColumns { id: string; name: string; direction: Direction; state: StudyState; config: string; search_seconds: number }

/** The trial columns every SQL store shares. */
export interface TrialColumns {
  id: number; study_id: string; number: number; state: TrialState; role: string; params: string; schedule: string;
  value: number | null; failure_reason: string | null; seed: number; metrics: string | null; retries: number;
  lease_owner: string | null; lease_token: number;
}
export interface ValueRow { trial_id: number; step: number; value: number; metrics: string | null }

/** Value rows (ordered by trial, then step) grouped by trial: each trial's curve, in step order. */
export function valuesByTrial(values: readonly ValueRow[]): Map<number, ValueRow[]> {
  const byTrial = new Map<number, ValueRow[]>();
  for (const v of values) {
    const list = byTrial.get(v.trial_id);
    if (list) list.push(v);
    else byTrial.set(v.trial_id, [v]);
  }
  return byTrial;
}

/** What differs between stores, as ISO strings and booleans. */
export interface TrialTimes {
  createdAt: string; startedAt: string | null; finishedAt: string | null; leaseExpiresAt: string; pruneRequested: boolean;
}

export function studyRecord(row: StudyColumns, attrRows: { key: string; value: string }[], json: StoredJson, createdAt: string): StudyRecord {
  const attrs: Record<string, unknown> = {};
  for (const a of attrRows) attrs[a.key] = json(a.value, `study ${row.id} attribute ${a.key}`, null);
  return {
    id: row.id, name: row.name, direction: row.direction, state: row.state, config: json(row.config, `study ${row.id} config`, {}),
    attrs, searchSeconds: row.search_seconds, createdAt,
  };
}

export function trialRecord(row: TrialColumns, values: ValueRow[], json: StoredJson, times: TrialTimes): TrialRecord {
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
      ? { owner: row.lease_owner, token: row.lease_token, expiresAt: times.leaseExpiresAt }
      : null,
    retries: row.retries,
    claims: row.lease_token,
    pruneRequested: times.pruneRequested,
    createdAt: times.createdAt,
    startedAt: times.startedAt,
    finishedAt: times.finishedAt,
  };
}
