// Checks request bodies and path ids in the route layer, before the study API is called, so a rejected request changes nothing.
import { ConfigError, NotFoundError } from '../errors.js';
import { type Json, describeValue, expectInt, expectNumber, expectObject, rejectUnknown } from '../config/fields.js';
import { expectBoundedJson } from '../config/json_bounds.js';
import { validateStudyConfig, type StudyConfig } from '../study/config.js';

export const MAX_ASK = 64;
const MAX_REASON = 2000;

/** A body the route needs as an object; an empty body counts as `{}` when every field is optional. */
export function bodyObject(raw: unknown, allowEmpty: boolean): Json {
  if (raw === undefined && allowEmpty) return {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError('body', `must be a JSON object, got ${raw === undefined ? 'no body' : describeValue(raw)}`, 'send Content-Type: application/json with an object body');
  }
  return raw as Json;
}

/** Trial ids are positive integers; anything else cannot name a trial, so it is a 404 like any unknown id. */
export function trialIdParam(raw: string): number {
  const id = /^[1-9]\d{0,15}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(id)) throw new NotFoundError(`trial ${raw}`);
  return id;
}

export function askBody(raw: unknown): { count: number } {
  const body = bodyObject(raw, true);
  rejectUnknown(body, '', ['count']);
  if (body.count === undefined) return { count: 1 };
  return { count: expectInt(body.count, 'count', 1, MAX_ASK, `ask for 1 to ${MAX_ASK} trials at a time`) };
}

/** A lease token, when the client sends one (the Python client does): a stale one is refused with 409 LEASE_LOST. */
function token(body: Json): { token?: number } {
  return body.token === undefined ? {} : { token: expectInt(body.token, 'token', 1, undefined, 'send the lease.token the ask gave you, or leave it out') };
}

/** A study config is stored (and shown) as sent once valid: its bounds, then its fields, are checked here, at the edge. */
export function studyConfigBody(raw: unknown): StudyConfig {
  const body = bodyObject(raw, false);
  expectBoundedJson(body, '');
  return validateStudyConfig(body);
}

export function reportBody(raw: unknown): { step: number; value: number; metrics?: Record<string, unknown>; token?: number } {
  const body = bodyObject(raw, false);
  rejectUnknown(body, '', ['step', 'value', 'metrics', 'token']);
  const step = expectInt(body.step, 'step', 0, undefined, 'send the training step this value was measured at');
  const value = expectNumber(body.value, 'value', -Infinity, Infinity, { fix: 'send the objective metric at this step' });
  const out = { step, value, ...token(body) };
  if (body.metrics === undefined) return out;
  const metrics = expectObject(body.metrics, 'metrics', 'send e.g. {"loss": 0.3} or leave it out');
  // Stored as given and read back by every view of the study: bounded here so no report can poison it.
  expectBoundedJson(metrics, 'metrics');
  return { ...out, metrics };
}

export function tellBody(raw: unknown): { outcome: { value: number } | { failed: string }; token?: number } {
  const body = bodyObject(raw, false);
  rejectUnknown(body, '', ['value', 'failed', 'token']);
  const hasValue = body.value !== undefined;
  const hasFailed = body.failed !== undefined;
  if (hasValue === hasFailed) {
    throw new ConfigError('body', hasValue ? 'has both value and failed' : 'needs value or failed', 'send {"value": 0.97} or {"failed": "why"}');
  }
  if (hasFailed) {
    const f = body.failed;
    if (typeof f !== 'string' || f.trim() === '' || f.length > MAX_REASON) {
      throw new ConfigError('failed', `must be a non-empty reason of at most ${MAX_REASON} characters, got ${describeValue(f)}`, 'say why the trial failed');
    }
    return { outcome: { failed: f }, ...token(body) };
  }
  return { outcome: { value: expectNumber(body.value, 'value', -Infinity, Infinity, { fix: 'send {"failed": "why"} for a trial that produced no number' }) }, ...token(body) };
}
