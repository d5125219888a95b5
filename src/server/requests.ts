// Checks request bodies and path ids in the route layer, before the study API is called, so a rejected request changes nothing.
import { ConfigError, NotFoundError } from '../errors.js';

export const MAX_ASK = 64;
const MAX_REASON = 2000;

type Json = Record<string, unknown>;

function show(v: unknown): string {
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/** A body the route needs as an object; an empty body counts as `{}` when every field is optional. */
export function bodyObject(raw: unknown, allowEmpty: boolean): Json {
  if (raw === undefined && allowEmpty) return {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError('body', `must be a JSON object, got ${raw === undefined ? 'no body' : show(raw)}`, 'send Content-Type: application/json with an object body');
  }
  return raw as Json;
}

function onlyFields(body: Json, allowed: readonly string[]): void {
  for (const k of Object.keys(body)) {
    if (!allowed.includes(k)) throw new ConfigError(k, 'unknown field', `allowed fields are ${allowed.join(', ')}`);
  }
}

/** Trial ids are positive integers; anything else cannot name a trial, so it is a 404 like any unknown id. */
export function trialIdParam(raw: string): number {
  const id = /^[1-9]\d{0,15}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(id)) throw new NotFoundError(`trial ${raw}`);
  return id;
}

export function askBody(raw: unknown): { count: number } {
  const body = bodyObject(raw, true);
  onlyFields(body, ['count']);
  if (body.count === undefined) return { count: 1 };
  const c = body.count;
  if (typeof c !== 'number' || !Number.isInteger(c) || c < 1 || c > MAX_ASK) {
    throw new ConfigError('count', `must be an integer in [1, ${MAX_ASK}], got ${show(c)}`, `ask for 1 to ${MAX_ASK} trials at a time`);
  }
  return { count: c };
}

export function reportBody(raw: unknown): { step: number; value: number; metrics?: Record<string, unknown> } {
  const body = bodyObject(raw, false);
  onlyFields(body, ['step', 'value', 'metrics']);
  const { step, value, metrics } = body;
  if (typeof step !== 'number' || !Number.isSafeInteger(step) || step < 0) {
    throw new ConfigError('step', `must be an integer >= 0, got ${show(step)}`, 'send the training step this value was measured at');
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ConfigError('value', `must be a finite number, got ${show(value)}`, 'send the objective metric at this step');
  }
  if (metrics === undefined) return { step, value };
  if (metrics === null || typeof metrics !== 'object' || Array.isArray(metrics)) {
    throw new ConfigError('metrics', `must be an object, got ${show(metrics)}`, 'send e.g. {"loss": 0.3} or leave it out');
  }
  return { step, value, metrics: metrics as Record<string, unknown> };
}

export function tellBody(raw: unknown): { value: number } | { failed: string } {
  const body = bodyObject(raw, false);
  onlyFields(body, ['value', 'failed']);
  const hasValue = body.value !== undefined;
  const hasFailed = body.failed !== undefined;
  if (hasValue === hasFailed) {
    throw new ConfigError('body', hasValue ? 'has both value and failed' : 'needs value or failed', 'send {"value": 0.97} or {"failed": "why"}');
  }
  if (hasFailed) {
    const f = body.failed;
    if (typeof f !== 'string' || f.trim() === '' || f.length > MAX_REASON) {
      throw new ConfigError('failed', `must be a non-empty reason of at most ${MAX_REASON} characters, got ${show(f)}`, 'say why the trial failed');
    }
    return { failed: f };
  }
  const v = body.value;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new ConfigError('value', `must be a finite number, got ${show(v)}`, 'send {"failed": "why"} for a trial that produced no number');
  }
  return { value: v };
}
