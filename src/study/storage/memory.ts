// The RAM Storage: same contract as SQLite, for tests and throwaway studies (Vizier keeps both datastores too).
import type { Direction, IntermediateValue, NewTrial, Storage, StudyRecord, StudyState, TrialRecord, TrialState } from '../types.js';
import {
  alreadyFinished, checkFinish, checkIntermediate, checkNewStudy, checkNewTrial, checkStudyState, duplicateName,
  type FinishResult, isFinished, jsonCopy, newStudyId, now, studyNotFound, trialNotFound,
} from './rules.js';

/**
 * Records go in and out through a JSON copy, so callers can neither mutate stored state by accident nor see
 * anything SQLite would not give back (undefined fields, NaN in metrics). Node runs this on one thread, so each
 * method is atomic by construction.
 */
export class MemoryStorage implements Storage {
  private readonly studies = new Map<string, StudyRecord>();
  private readonly trials = new Map<number, TrialRecord>();
  /** Per-study change counter (SQLite keeps it with triggers); bumped by every mutation that changes something. */
  private readonly revisions = new Map<string, number>();
  private nextTrialId = 1;
  private closed = false;

  createStudy(study: { name: string; direction: Direction; config: Record<string, unknown> }): StudyRecord {
    this.check();
    checkNewStudy(study);
    if (this.findStudyByName(study.name)) throw duplicateName(study.name);
    let id = newStudyId();
    while (this.studies.has(id)) id = newStudyId();
    const rec: StudyRecord = { id, name: study.name, direction: study.direction, state: 'CREATED', config: jsonCopy(study.config), attrs: {}, createdAt: now() };
    this.studies.set(id, rec);
    this.revisions.set(id, 0);
    return jsonCopy(rec);
  }

  getStudy(id: string): StudyRecord | undefined {
    this.check();
    return jsonCopy(this.studies.get(id));
  }

  findStudyByName(name: string): StudyRecord | undefined {
    this.check();
    for (const s of this.studies.values()) if (s.name === name) return jsonCopy(s);
    return undefined;
  }

  listStudies(): StudyRecord[] {
    this.check();
    return [...this.studies.values()].map(jsonCopy);
  }

  setStudyState(id: string, state: StudyState): void {
    checkStudyState(state);
    this.study(id).state = state;
    this.bump(id);
  }

  setStudyAttr(id: string, key: string, value: unknown): void {
    this.study(id).attrs[key] = jsonCopy(value ?? null);
    this.bump(id);
  }

  createTrials(studyId: string, trials: NewTrial[]): TrialRecord[] {
    trials.forEach(checkNewTrial);
    this.study(studyId);
    let number = 0;
    for (const t of this.trials.values()) if (t.studyId === studyId) number = Math.max(number, t.number + 1);
    const at = now();
    return trials.map((t, i) => {
      const rec: TrialRecord = {
        id: this.nextTrialId++, studyId, number: number + i, state: t.state, params: jsonCopy(t.params), schedule: jsonCopy(t.schedule),
        label: t.label ?? null, value: null, failureReason: null, seed: t.seed, metrics: null, intermediate: [],
        createdAt: at, startedAt: t.state === 'RUNNING' ? at : null, finishedAt: null,
      };
      this.trials.set(rec.id, rec);
      this.bump(studyId);
      return jsonCopy(rec);
    });
  }

  getTrial(studyId: string, trialId: number): TrialRecord | undefined {
    this.check();
    const t = this.trials.get(trialId);
    return t && t.studyId === studyId ? jsonCopy(t) : undefined;
  }

  listTrials(studyId: string, opts: { states?: TrialState[]; withIntermediate?: boolean } = {}): TrialRecord[] {
    this.check();
    const out: TrialRecord[] = [];
    for (const t of this.trials.values()) {
      if (t.studyId !== studyId || (opts.states && !opts.states.includes(t.state))) continue;
      const copy = jsonCopy(t);
      if (opts.withIntermediate === false) copy.intermediate = [];
      out.push(copy);
    }
    return out.sort((a, b) => a.number - b.number);
  }

  startTrial(studyId: string, trialId: number): boolean {
    const t = this.trial(studyId, trialId);
    if (t.state !== 'WAITING') return false;
    t.state = 'RUNNING';
    t.startedAt = now();
    this.bump(studyId);
    return true;
  }

  addIntermediate(studyId: string, trialId: number, value: IntermediateValue): void {
    checkIntermediate(value);
    const t = this.trial(studyId, trialId);
    if (isFinished(t.state)) throw alreadyFinished(trialId, t.state);
    if (t.intermediate.some((v) => v.step === value.step)) return;
    const entry: IntermediateValue = { step: value.step, value: value.value };
    if (value.metrics != null) entry.metrics = jsonCopy(value.metrics);
    t.intermediate.push(entry);
    t.intermediate.sort((a, b) => a.step - b.step);
    this.bump(studyId);
  }

  finishTrial(studyId: string, trialId: number, result: FinishResult): TrialRecord {
    checkFinish(result);
    const t = this.trial(studyId, trialId);
    if (isFinished(t.state)) throw alreadyFinished(trialId, t.state);
    const at = now();
    t.state = result.state;
    t.value = result.value ?? null;
    t.failureReason = result.failureReason ?? null;
    t.metrics = result.metrics == null ? null : jsonCopy(result.metrics);
    t.finishedAt = at;
    t.startedAt ??= at;
    this.bump(studyId);
    return jsonCopy(t);
  }

  requeueRunning(studyId: string): number {
    this.check();
    let n = 0;
    for (const t of this.trials.values()) {
      if (t.studyId === studyId && t.state === 'RUNNING') {
        t.state = 'WAITING';
        t.startedAt = null;
        this.bump(studyId);
        n++;
      }
    }
    return n;
  }

  changeStamp(studyId: string): number {
    this.study(studyId);
    return this.revisions.get(studyId) ?? 0;
  }

  close(): void {
    this.closed = true;
  }

  private bump(studyId: string): void {
    this.revisions.set(studyId, (this.revisions.get(studyId) ?? 0) + 1);
  }

  private check(): void {
    // Mirrors SQLite, whose methods throw after close: a test that uses a closed store should fail loudly.
    if (this.closed) throw new Error('MemoryStorage is closed');
  }

  private study(id: string): StudyRecord {
    this.check();
    const s = this.studies.get(id);
    if (!s) throw studyNotFound(id);
    return s;
  }

  private trial(studyId: string, trialId: number): TrialRecord {
    this.check();
    const t = this.trials.get(trialId);
    if (!t || t.studyId !== studyId) throw trialNotFound(studyId, trialId);
    return t;
  }
}
