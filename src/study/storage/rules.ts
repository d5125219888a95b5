// State-transition and input rules every Storage implementation enforces identically, so the conformance suite can hold them all to it.
import { randomBytes } from 'node:crypto';
import { ConfigError, ConflictError, NotFoundError } from '../../errors.js';
import type { Direction, IntermediateValue, NewTrial, StudyState, TrialState } from '../types.js';

export type FinishResult = {
  state: 'COMPLETE' | 'PRUNED' | 'FAIL';
  value?: number | null;
  failureReason?: string | null;
  metrics?: Record<string, unknown> | null;
};

const STUDY_STATES: readonly StudyState[] = ['CREATED', 'RUNNING', 'STOPPED', 'COMPLETE'];
const FINISHED: readonly TrialState[] = ['COMPLETE', 'PRUNED', 'FAIL'];

export function isFinished(state: TrialState): boolean {
  return FINISHED.includes(state);
}

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
  if (typeof study.name !== 'string' || study.name.length === 0) throw new ConfigError('name', 'must be a non-empty string');
  if (study.direction !== 'minimize' && study.direction !== 'maximize') {
    throw new ConfigError('direction', `must be 'minimize' or 'maximize', got ${JSON.stringify(study.direction)}`);
  }
  if (typeof study.config !== 'object' || study.config === null) throw new ConfigError('config', 'must be an object');
}

export function checkStudyState(state: StudyState): void {
  if (!STUDY_STATES.includes(state)) throw new ConfigError('state', `must be one of ${STUDY_STATES.join(', ')}, got ${JSON.stringify(state)}`);
}

export function checkNewTrial(t: NewTrial, i: number): void {
  if (t.state !== 'WAITING' && t.state !== 'RUNNING') {
    throw new ConfigError(`trials[${i}].state`, `a new trial is WAITING or RUNNING, got ${JSON.stringify(t.state)}`);
  }
  if (!Number.isSafeInteger(t.seed)) throw new ConfigError(`trials[${i}].seed`, `must be an integer, got ${String(t.seed)}`);
  if (typeof t.params !== 'object' || t.params === null) throw new ConfigError(`trials[${i}].params`, 'must be an object');
  if (typeof t.schedule !== 'object' || t.schedule === null) throw new ConfigError(`trials[${i}].schedule`, 'must be an object');
}

export function checkIntermediate(v: IntermediateValue): void {
  if (!Number.isSafeInteger(v.step) || v.step < 0) throw new ConfigError('step', `must be an integer >= 0, got ${String(v.step)}`);
  if (typeof v.value !== 'number' || !Number.isFinite(v.value)) throw new ConfigError('value', `must be a finite number, got ${String(v.value)}`);
}

export function checkFinish(r: FinishResult): void {
  if (!FINISHED.includes(r.state)) throw new ConfigError('state', `must be COMPLETE, PRUNED or FAIL, got ${JSON.stringify(r.state)}`);
  const v = r.value ?? null;
  if (r.state === 'COMPLETE' && (typeof v !== 'number' || !Number.isFinite(v))) {
    throw new ConfigError('value', `a COMPLETE trial needs a finite value, got ${String(v)}`, 'report a failure instead');
  }
  if (v !== null && (typeof v !== 'number' || !Number.isFinite(v))) throw new ConfigError('value', `must be a finite number or null, got ${String(v)}`);
}

/** The single source of the "already finished" wording, so clients see the same message from every backend. */
export function alreadyFinished(trialId: number, state: TrialState): ConflictError {
  return new ConflictError(`trial ${trialId} is already finished (${state})`);
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
