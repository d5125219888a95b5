// State-transition and input rules every Storage implementation enforces identically, so the conformance suite can hold them all to it.
import { randomBytes } from 'node:crypto';
import { ConfigError, ConflictError, NotFoundError } from '../../errors.js';
import { countsTowardBudget, isValidRole } from '../../shared/roles.js';
import { FINISHED_STATES, isFinished, OPEN_STATES } from '../../shared/attempts.js';
import { BudgetExhaustedError, LeaseLostError, TrialNotRunningError } from '../errors.js';
import { trialSeed } from '../seeds.js';
import type { Direction, FinishResult, IntermediateValue, LeaseRequest, NewTrial, StudySnapshot, StudyState, TrialState } from '../types.js';

const STUDY_STATES: readonly StudyState[] = ['CREATED', 'RUNNING', 'STOPPED', 'COMPLETE'];
const TRIAL_STATES: readonly TrialState[] = [...OPEN_STATES, ...FINISHED_STATES];
/** A lease shorter than this could expire between two heartbeats of a healthy worker; longer than a week is a typo. */
const LEASE_SECONDS = { min: 1, max: 7 * 24 * 3600 };

/** 12 hex characters: short enough to type in `renorm-tune show`, random enough that two hosts never collide in practice. */
export function newStudyId(): string {
  return randomBytes(6).toString('hex');
}

export function now(): string {
  return new Date().toISOString();
}

/** Storage stores what it is given as JSON; round-tripping here makes the RAM store return exactly what SQLite would. */
export function jsonCopy<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

export function checkNewStudy(study: { name: string; direction: Direction; config: Record<string, unknown> }): void {
  checkStudyName(study.name);
  if (study.direction !== 'minimize' && study.direction !== 'maximize') {
    throw new ConfigError('direction', `must be 'minimize' or 'maximize', got ${JSON.stringify(study.direction)}`);
  }
  if (typeof study.config !== 'object' || study.config === null) throw new ConfigError('config', 'must be an object');
}

/** The config a rename stores: its `name` moved to the study's new one; null when nothing changes (no name, or that one). */
export function renamedConfig(config: Record<string, unknown>, name: string): Record<string, unknown> | null {
  return typeof config.name === 'string' && config.name !== name ? { ...config, name } : null;
}

export function checkStudyName(name: unknown): void {
  if (typeof name !== 'string' || name.length === 0) throw new ConfigError('name', 'must be a non-empty string');
}

export function checkStudyState(state: StudyState): void {
  if (!STUDY_STATES.includes(state)) throw new ConfigError('state', `must be one of ${STUDY_STATES.join(', ')}, got ${JSON.stringify(state)}`);
}

export function checkLease(lease: LeaseRequest | undefined, field: string): asserts lease is LeaseRequest {
  if (!lease || typeof lease.owner !== 'string' || lease.owner.length === 0 || lease.owner.length > 200) {
    throw new ConfigError(`${field}.owner`, 'must be a non-empty string of at most 200 characters', 'use e.g. host:pid');
  }
  checkLeaseSeconds(lease.seconds, `${field}.seconds`);
}

export function checkLeaseSeconds(seconds: number, field: string): void {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < LEASE_SECONDS.min || seconds > LEASE_SECONDS.max) {
    throw new ConfigError(field, `must be a number of seconds in [${LEASE_SECONDS.min}, ${LEASE_SECONDS.max}], got ${String(seconds)}`);
  }
}

export function checkNewTrial(t: NewTrial, i: number): void {
  const f = `trials[${i}]`;
  if (!TRIAL_STATES.includes(t.state)) throw new ConfigError(`${f}.state`, `must be one of ${TRIAL_STATES.join(', ')}, got ${JSON.stringify(t.state)}`);
  if (!isValidRole(t.role)) throw new ConfigError(`${f}.role`, `unknown role ${JSON.stringify(t.role)}`, 'use search, enqueued, warm-start, baseline:batchnorm, baseline:paper, race:<n> or final:<arm>');
  if (isFinished(t.state) && t.role !== 'warm-start') {
    throw new ConfigError(`${f}.state`, `only warm-start copies are created finished, got ${t.state} for a ${t.role} trial`);
  }
  if (t.state === 'RUNNING') checkLease(t.lease, `${f}.lease`);
  if (t.state === 'COMPLETE') checkFinish({ state: 'COMPLETE', value: t.value ?? null });
  if (t.seed !== undefined && !Number.isSafeInteger(t.seed)) throw new ConfigError(`${f}.seed`, `must be an integer, got ${String(t.seed)}`);
  if (t.key !== undefined && (typeof t.key !== 'string' || t.key.length === 0 || t.key.length > 200)) {
    throw new ConfigError(`${f}.key`, 'must be a non-empty string of at most 200 characters');
  }
  if (typeof t.params !== 'object' || t.params === null) throw new ConfigError(`${f}.params`, 'must be an object');
  if (typeof t.schedule !== 'object' || t.schedule === null) throw new ConfigError(`${f}.schedule`, 'must be an object');
}

/**
 * The trials of a batch that are to be created: unkeyed ones, and keyed ones whose key is neither `taken` in the
 * study nor repeated earlier in the batch (the first wins), so a key is never created twice.
 */
export function freshTrials(trials: readonly NewTrial[], taken: (key: string) => boolean): NewTrial[] {
  const seen = new Set<string>();
  return trials.filter((t) => {
    if (t.key === undefined) return true;
    if (seen.has(t.key) || taken(t.key)) return false;
    seen.add(t.key);
    return true;
  });
}

/** The seed a new trial gets: its own, else one derived from the study seed and its storage-assigned number. */
export function seedFor(t: NewTrial, config: Record<string, unknown>, number: number): number {
  if (t.seed !== undefined) return t.seed;
  const studySeed = typeof config.seed === 'number' && Number.isSafeInteger(config.seed) ? config.seed : 0;
  return trialSeed(studySeed, number);
}

/**
 * How many of `wanted` new trials fit: all of them without a budget; else what is left of `budget` after the
 * `counted` trials that already count toward it (BudgetExhaustedError when nothing is left and one was wanted).
 */
export function grant(studyName: string, wanted: readonly NewTrial[], counted: number, budget: number | undefined): number {
  if (budget === undefined) return wanted.length;
  const charged = wanted.filter((t) => countsTowardBudget(t.role)).length;
  const left = budget - counted;
  if (charged === 0) return wanted.length;
  if (left <= 0) throw new BudgetExhaustedError(studyName, `budget.trials = ${budget}`);
  // Keep the order: cut the batch just after the last trial that still fits.
  let fit = 0;
  let n = 0;
  for (const t of wanted) {
    if (countsTowardBudget(t.role)) {
      if (fit === left) break;
      fit++;
    }
    n++;
  }
  return n;
}

export function checkIntermediate(v: IntermediateValue): void {
  if (!Number.isSafeInteger(v.step) || v.step < 0) throw new ConfigError('step', `must be an integer in [0, ${Number.MAX_SAFE_INTEGER}], got ${String(v.step)}`);
  if (typeof v.value !== 'number' || !Number.isFinite(v.value)) throw new ConfigError('value', `must be a finite number, got ${String(v.value)}`);
}

export function checkFinish(r: FinishResult): void {
  if (!isFinished(r.state)) throw new ConfigError('state', `must be COMPLETE, PRUNED or FAIL, got ${JSON.stringify(r.state)}`);
  const v = r.value ?? null;
  if (r.state === 'COMPLETE' && (typeof v !== 'number' || !Number.isFinite(v))) {
    throw new ConfigError('value', `a COMPLETE trial needs a finite value, got ${String(v)}`, 'report a failure instead');
  }
  if (v !== null && (typeof v !== 'number' || !Number.isFinite(v))) throw new ConfigError('value', `must be a finite number or null, got ${String(v)}`);
}

/** What an expired lease does to its trial: back to the queue, or FAIL once it has been retried `maxRetries` times. */
export function reapOutcome(t: { retries: number; owner: string | null }, maxRetries: number, dead: boolean): { state: 'WAITING' } | { state: 'FAIL'; reason: string } {
  if (t.retries < maxRetries) return { state: 'WAITING' };
  const why = dead ? 'its worker died' : 'its lease expired';
  return { state: 'FAIL', reason: `${why} ${t.retries + 1} times (last owner ${t.owner ?? 'unknown'}; maxRetries = ${maxRetries})` };
}

/** Whether a failure reason is reapOutcome's: the trial was failed for its lost leases, not told failed by a holder. */
function failedByReaper(reason: string | null | undefined): boolean {
  return /^(its worker died|its lease expired) \d+ times \(last owner /.test(reason ?? '');
}

/**
 * The search clock after a tick at `nowMs`: time since the last tick counts unless it is a gap longer than
 * `gapSeconds` (nobody was working). Pure, so every backend applies the same arithmetic inside its transaction.
 */
export function tickClock(clock: { seconds: number; lastTickMs: number | null }, nowMs: number, gapSeconds: number): { seconds: number; lastTickMs: number } {
  if (clock.lastTickMs === null || nowMs <= clock.lastTickMs) return { seconds: clock.seconds, lastTickMs: Math.max(nowMs, clock.lastTickMs ?? 0) };
  const delta = (nowMs - clock.lastTickMs) / 1000;
  return { seconds: delta > gapSeconds ? clock.seconds : clock.seconds + delta, lastTickMs: nowMs };
}

export function leaseLost(number: number, why: string, advice?: string): LeaseLostError {
  return new LeaseLostError(number, why, advice);
}

/**
 * The one lease check of every backend: a trial's report, tell or heartbeat with `token` goes through only while the
 * trial runs under that very lease. An older token is a lease that expired and went to someone else; a newer one
 * was never handed out (a client that made it up or mixed up two trials).
 */
export function checkLeaseToken(number: number, state: TrialState, leaseToken: number | null, token: number): void {
  // A heartbeat under the lease whose result finished the trial (a FAIL may also be the reaper's, so it keeps the plain
  // words): that result was taken, so saying it "would be refused" would send its trainer to look for a lost result.
  if ((state === 'COMPLETE' || state === 'PRUNED') && token === leaseToken) {
    throw leaseLost(number, `it is ${state}`, 'the result sent under this lease was taken, so there is nothing more to send for it');
  }
  if (state !== 'RUNNING') throw leaseLost(number, `it is ${state}`);
  if (leaseToken === token) return;
  if (leaseToken !== null && token > leaseToken) throw leaseLost(number, `token ${token} was never issued: its lease is at ${leaseToken}, send the token its ask returned`);
  throw leaseLost(number, `token ${token} is stale, the lease is at ${leaseToken}`);
}

/**
 * The one check of a report, result or hand-back, in every backend and the service: a finished trial is a conflict
 * ("already finished"), unless `token` is older than its last lease (that lease expired, the trial went to someone
 * else and they finished it) or the trial was failed for its lost leases (`failureReason`): either way its holder
 * hears that its lease was lost, as it would have before the trial finished.
 * Otherwise, with `token`, the lease check above; without one, the trial must at least be out (RUNNING). A queued
 * one that had a lease (it expired or was handed back) lost it, as a token would say; one that never had a lease
 * was never handed out.
 */
export function checkReporter(number: number, state: TrialState, leaseToken: number | null, token: number | undefined, failureReason?: string | null): void {
  if (isFinished(state)) {
    if (token !== undefined && leaseToken !== null && token < leaseToken) {
      throw leaseLost(number, `token ${token} is stale: its lease expired, the trial went to another trainer (lease ${leaseToken}), and it is ${state} now`);
    }
    // The last holder of a trial failed for its lost leases lost its lease too (it expired, or its worker died).
    if (token !== undefined && state === 'FAIL' && failedByReaper(failureReason)) throw leaseLost(number, `it was failed: ${failureReason}`);
    throw alreadyFinished(number, state);
  }
  if (token !== undefined) return checkLeaseToken(number, state, leaseToken, token);
  if (state === 'RUNNING') return;
  if (leaseToken) throw leaseLost(number, `it is ${state}: its lease ended and it went back to the queue`);
  throw new TrialNotRunningError(number, state);
}

/** The single source of the "already finished" wording, so clients see the same message from every backend. */
export function alreadyFinished(number: number, state: TrialState): ConflictError {
  return new ConflictError(`trial #${number} is already finished (${state})`);
}

export function trialNotFound(studyId: string, trialId: number): NotFoundError {
  return new NotFoundError(`trial ${trialId} of study ${studyId}`);
}

export function studyNotFound(studyId: string): NotFoundError {
  return new NotFoundError(`study ${studyId}`);
}

export function duplicateName(name: string): ConflictError {
  return new ConflictError(`a study named '${name}' already exists`);
}

/**
 * What every store refuses in a snapshot before it writes anything: a bad study (checkNewStudy, its state), a trial
 * RUNNING (a lease does not travel: the copier queues it again), an unknown state or role, numbers out of order or
 * repeated, a key given twice.
 */
export function checkSnapshot(snapshot: StudySnapshot): void {
  const { study, trials } = snapshot;
  checkNewStudy(study);
  checkStudyState(study.state);
  const keys = new Set<string>();
  trials.forEach((t, i) => {
    const f = `trials[${i}]`;
    if (t.state === 'RUNNING' || !TRIAL_STATES.includes(t.state)) throw new ConfigError(`${f}.state`, `must be WAITING or finished, got ${JSON.stringify(t.state)}`, 'queue a RUNNING trial again before copying it');
    if (!isValidRole(t.role)) throw new ConfigError(`${f}.role`, `unknown role ${JSON.stringify(t.role)}`);
    if (!Number.isSafeInteger(t.number) || t.number < 0 || (i > 0 && t.number <= trials[i - 1]!.number)) throw new ConfigError(`${f}.number`, `must be a whole number from 0, larger than the trial's before it, got ${JSON.stringify(t.number)}`);
    if (t.key !== null) {
      if (keys.has(t.key)) throw new ConfigError(`${f}.key`, `key ${JSON.stringify(t.key)} is given twice`);
      keys.add(t.key);
    }
  });
}
