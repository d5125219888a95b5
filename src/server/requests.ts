// Checks request bodies and path ids in the route layer, before the study API is called, so a rejected request changes nothing.
import { ConfigError, RequestError } from '../errors.js';
import { type Json, describeValue, expectInt, expectNumber, expectObject, rejectUnknown } from '../config/fields.js';
import { expectBoundedJson } from '../config/json_bounds.js';
import { validateSchedule } from '../schedule/validate.js';
import type { ScheduleSpec } from '../schedule/types.js';
import { checkRenormMomentum } from '../schedule/momentum.js';
import { studyName, validateStudyConfig, type StudyConfig } from '../study/config.js';
import type { ViewCurves } from '../study/api_types.js';

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

/** `?curves=` of a study's view: `all` (the default) or `top` (only the curves the study page draws). */
export function viewCurvesQuery(raw: unknown): ViewCurves {
  if (raw === undefined || raw === 'all') return 'all';
  if (raw === 'top') return 'top';
  const got = typeof raw === 'string' ? `must be all or top, got ${JSON.stringify(raw.slice(0, 40))}` : 'is given more than once';
  throw new RequestError('INVALID_URL', 'curves', `the query's curves ${got}`,
    'use ?curves=top for the curves the study page draws (the rest: GET /api/studies/<id>/trials/<number>), or leave it out for every curve');
}

/**
 * A trial in a path is its number in the study (`#7` is `/trials/7`), the identity people see everywhere. Anything
 * that is not written as one (`abc`, `-1`, `01`) is the client's mistake in the URL: a 400 naming the path parameter;
 * a well-formed number that names no trial is a 404 like any unknown trial.
 */
export function trialNumberParam(raw: string): { number: number } {
  if (!/^(0|[1-9]\d*)$/.test(raw)) {
    throw new RequestError('INVALID_URL', 'number', `the path's trial number must be an integer >= 0 written without leading zeros, got ${JSON.stringify(raw.slice(0, 40))}`,
      'use the number ask returned, e.g. POST /api/studies/<id>/trials/7/tell');
  }
  // One too large to be exact still goes to the service: its 404 names the study and the numbers it has.
  return { number: Number(raw) };
}

/**
 * The errors of a body are the request's own (INVALID_ASK, INVALID_REPORT, INVALID_TELL, INVALID_RELEASE,
 * INVALID_HEARTBEAT): the field checkers throw ConfigErrors, re-coded here so a client can tell a bad report from a
 * bad config.
 */
function coded<T>(code: string, check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof ConfigError && !(err instanceof RequestError)) throw RequestError.recode(code, err);
    throw err;
  }
}

/** An askId: what a client names one ask by, so that it can send it again safely (AskOptions.askId). */
const ASK_ID = /^[A-Za-z0-9_-]{8,64}$/;

export function askBody(raw: unknown): { count: number; totalSteps?: number; askId?: string } {
  return coded('INVALID_ASK', () => {
    const body = bodyObject(raw, true);
    rejectUnknown(body, '', ['count', 'totalSteps', 'askId']);
    const out: { count: number; totalSteps?: number; askId?: string } = {
      count: body.count === undefined ? 1 : expectInt(body.count, 'count', 1, MAX_ASK, `ask for 1 to ${MAX_ASK} trials at a time`),
    };
    if (body.totalSteps !== undefined) out.totalSteps = expectInt(body.totalSteps, 'totalSteps', 1, 1e9, 'send your run length in training steps');
    if (body.askId !== undefined) {
      if (typeof body.askId !== 'string' || !ASK_ID.test(body.askId)) {
        throw new ConfigError('askId', `must be 8 to 64 letters, digits, _ or -, got ${JSON.stringify(body.askId).slice(0, 80)}`,
          'send a fresh random id per ask (e.g. a UUID\'s hex), and the same one only when sending that ask again');
      }
      out.askId = body.askId;
    }
    return out;
  });
}

/** A lease token, when the client sends one (the Python client does): a stale one is refused with 409 LEASE_LOST. */
function token(body: Json, optional = true): { token?: number } {
  return body.token === undefined ? {} : { token: expectInt(body.token, 'token', 1, undefined, `send the lease.token the ask gave you${optional ? ', or leave it out' : ''}`) };
}

/** A study config is stored (and shown) as sent once valid: its bounds, then its fields, are checked here, at the edge. */
export function studyConfigBody(raw: unknown): StudyConfig {
  const body = bodyObject(raw, false);
  expectBoundedJson(body, '');
  return validateStudyConfig(body);
}

export function reportBody(raw: unknown): { step: number; value: number; metrics?: Record<string, unknown>; token?: number } {
  return coded('INVALID_REPORT', () => reportFields(raw));
}

function reportFields(raw: unknown): { step: number; value: number; metrics?: Record<string, unknown>; token?: number } {
  const body = bodyObject(raw, false);
  rejectUnknown(body, '', ['step', 'value', 'metrics', 'token']);
  const step = expectInt(body.step, 'step', 0, undefined, 'send the training step this value was measured at');
  const value = expectNumber(body.value, 'value', -Infinity, Infinity, { fix: 'send the objective metric at this step' });
  return { step, value, ...token(body), ...metricsField(body, '{"loss": 0.3}') };
}

/** A request's `metrics`, when it has one: stored as given and read back by every view, so bounded here. */
function metricsField(body: Json, example: string): { metrics?: Record<string, unknown> } {
  if (body.metrics === undefined) return {};
  const metrics = expectObject(body.metrics, 'metrics', `send e.g. ${example} or leave it out`);
  expectBoundedJson(metrics, 'metrics');
  return { metrics };
}

/** A tell: its outcome, the lease token when sent, and the trial's final metrics when sent (what it trained on, by whom, a test score). */
export function tellBody(raw: unknown): { outcome: { value: number } | { failed: string }; token?: number; metrics?: Record<string, unknown> } {
  return coded('INVALID_TELL', () => tellFields(raw));
}

function tellFields(raw: unknown): { outcome: { value: number } | { failed: string }; token?: number; metrics?: Record<string, unknown> } {
  const body = bodyObject(raw, false);
  rejectUnknown(body, '', ['value', 'failed', 'token', 'metrics']);
  const extra = { ...token(body), ...metricsField(body, '{"testAccuracy": 0.91, "device": "GPU"}') };
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
    return { outcome: { failed: f }, ...extra };
  }
  return { outcome: { value: expectNumber(body.value, 'value', -Infinity, Infinity, { fix: 'send {"failed": "why"} for a trial that produced no number' }) }, ...extra };
}

/**
 * A request that only proves it holds a trial's lease (a hand-back, a heartbeat): `{"token": 3}`, the lease token the
 * ask returned, required, with the request's own `code`.
 */
export function leaseTokenBody(code: 'INVALID_RELEASE' | 'INVALID_HEARTBEAT', raw: unknown): { token: number } {
  return coded(code, () => {
    const body = bodyObject(raw, false);
    rejectUnknown(body, '', ['token']);
    if (body.token === undefined) throw new ConfigError('token', "is required: only the lease's holder may send this", 'send {"token": <lease.token of the ask>}');
    return { token: token(body, false).token! };
  });
}

/** New totals: `{"trials": 40}` and/or `{"timeMinutes": 90}` (the service checks they raise the budget). */
export function extendBody(raw: unknown): { trials?: number; timeMinutes?: number } {
  const body = bodyObject(raw, false);
  rejectUnknown(body, '', ['trials', 'timeMinutes']);
  if (body.trials === undefined && body.timeMinutes === undefined) {
    throw new ConfigError('body', 'needs trials or timeMinutes (the new totals)', 'send e.g. {"trials": 40}');
  }
  const out: { trials?: number; timeMinutes?: number } = {};
  if (body.trials !== undefined) out.trials = expectInt(body.trials, 'trials', 1, 100_000, 'give the new total number of trials');
  if (body.timeMinutes !== undefined) out.timeMinutes = expectNumber(body.timeMinutes, 'timeMinutes', 0, 1e9, { loOpen: true, fix: 'give the new total search time in minutes' });
  return out;
}

export function renameBody(raw: unknown): { name: string } {
  const body = bodyObject(raw, false);
  rejectUnknown(body, '', ['name']);
  return { name: studyName(body.name) };
}

/** stop and resume take no fields; an empty body (or none) is the norm. */
export function emptyBody(raw: unknown): void {
  rejectUnknown(bodyObject(raw, true), '', []);
}

export function enqueueBody(raw: unknown): { schedule: ScheduleSpec; renormMomentum?: number } {
  const body = bodyObject(raw, false);
  rejectUnknown(body, '', ['schedule', 'renormMomentum']);
  if (body.schedule === undefined) throw new ConfigError('schedule', 'is missing', 'send {"schedule": {"kind": "ramp", "shape": "cosine", ...}}');
  expectBoundedJson(body.schedule, 'schedule');
  const out: { schedule: ScheduleSpec; renormMomentum?: number } = { schedule: validateSchedule(body.schedule, 'schedule') };
  if (body.renormMomentum !== undefined) out.renormMomentum = checkRenormMomentum(body.renormMomentum, 'renormMomentum');
  return out;
}
