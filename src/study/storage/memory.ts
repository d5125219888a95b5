// The RAM Storage: same contract as SQLite and PostgreSQL, for tests and throwaway studies (Vizier keeps a RAM datastore too).
import { countsTowardBudget, isPrunable } from '../../shared/roles.js';
import { tally, type TrialTally } from '../../shared/summary.js';
import { StaleSnapshotError } from '../errors.js';
import type {
  CreateGuard, Direction, FinishResult, IntermediateValue, Lease, LeaseRequest, NewTrial, PeerQuery, Storage, StudyRecord, StudySnapshot, StudyState,
  TrialRecord, TrialState,
} from '../types.js';
import {
  checkFinish, checkIntermediate, checkSnapshot, checkLease, checkLeaseSeconds, checkNewStudy, checkNewTrial, checkStudyName,
  checkStudyState, duplicateName, freshTrials, grant, jsonCopy, checkLeaseToken, checkReporter, newStudyId, now, reapOutcome, seedFor, studyNotFound,
  renamedConfig, tickClock, trialNotFound,
} from './rules.js';
import { isFinished } from '../../shared/attempts.js';
import { mapInSlices } from '../../event_loop.js';

interface StoredStudy {
  rec: Omit<StudyRecord, 'searchSeconds'>;
  revision: number;
  clock: { seconds: number; lastTickMs: number | null };
  keys: Set<string>;
}

interface StoredTrial {
  /** Its lease's fencing token is `rec.claims`, which survives the lease (release, reap), so tokens only grow. */
  rec: TrialRecord;
  expiresMs: number;
  key: string | null;
}

/** A trial back in the queue starts over (Storage.releaseTrial). */
function forgetAttempt(rec: TrialRecord): void {
  rec.intermediate = [];
  rec.pruneRequested = false;
}

/**
 * Records go in and out through a JSON copy, so callers can neither mutate stored state by accident nor see
 * anything SQLite would not give back (undefined fields, NaN in metrics). Each method runs to completion before
 * its promise resolves and Node runs it on one thread, so each is atomic by construction.
 */
export class MemoryStorage implements Storage {
  readonly kind = 'memory';
  private readonly studies = new Map<string, StoredStudy>();
  private readonly trials = new Map<number, StoredTrial>();
  private nextTrialId = 1;
  private closed = false;
  /** Injectable clock (ms) so lease-expiry tests need not sleep. */
  constructor(private readonly clock: () => number = Date.now) {}

  /** An id no study has, for a new study named `name` (a ConflictError when the name is taken). */
  private newStudyIdFor(name: string): string {
    if (this.byName(name)) throw duplicateName(name);
    let id = newStudyId();
    while (this.studies.has(id)) id = newStudyId();
    return id;
  }

  async createStudy(study: { name: string; direction: Direction; config: Record<string, unknown> }): Promise<StudyRecord> {
    this.check();
    checkNewStudy(study);
    const id = this.newStudyIdFor(study.name);
    const rec = { id, name: study.name, direction: study.direction, state: 'CREATED' as const, config: jsonCopy(study.config), attrs: {}, createdAt: now() };
    this.studies.set(id, { rec, revision: 0, clock: { seconds: 0, lastTickMs: null }, keys: new Set() });
    return this.studyOut(this.studies.get(id)!);
  }

  async getStudy(id: string): Promise<StudyRecord | undefined> {
    this.check();
    const s = this.studies.get(id);
    return s && this.studyOut(s);
  }

  async findStudyByName(name: string): Promise<StudyRecord | undefined> {
    this.check();
    const s = this.byName(name);
    return s && this.studyOut(s);
  }

  async listStudies(): Promise<StudyRecord[]> {
    this.check();
    return [...this.studies.values()].map((s) => this.studyOut(s));
  }

  async trialTallies(studyId?: string): Promise<Map<string, TrialTally>> {
    this.check();
    const out = new Map<string, TrialTally>();
    const one = studyId === undefined ? undefined : this.studies.get(studyId);
    for (const s of studyId === undefined ? this.studies.values() : one ? [one] : []) {
      const trials = this.trialsOf(s.rec.id).map((t) => t.rec);
      if (trials.length > 0) out.set(s.rec.id, tally(trials, s.rec.direction));
    }
    return out;
  }

  async setStudyState(id: string, state: StudyState, attrs: Readonly<Record<string, unknown>> = {}): Promise<void> {
    checkStudyState(state);
    const s = this.study(id);
    // Copied before anything changes: a value that cannot be stored leaves the state as it was, as a rollback would.
    const copies = Object.entries(attrs).map(([key, value]) => [key, jsonCopy(value ?? null)] as const);
    if (s.rec.state !== state) {
      s.rec.state = state;
      s.revision++;
    }
    for (const [key, value] of copies) s.rec.attrs[key] = value;
    if (copies.length > 0) s.revision++;
  }

  async setStudyAttr(id: string, key: string, value: unknown): Promise<void> {
    const s = this.study(id);
    s.rec.attrs[key] = jsonCopy(value ?? null);
    s.revision++;
  }

  async renameStudy(id: string, name: string): Promise<void> {
    checkStudyName(name);
    const s = this.study(id);
    const other = this.byName(name);
    if (other && other !== s) throw duplicateName(name);
    s.rec.name = name;
    s.rec.config = renamedConfig(s.rec.config, name) ?? s.rec.config;
    s.revision++;
  }

  async updateStudyConfig(id: string, edit: (config: Record<string, unknown>) => Record<string, unknown>): Promise<void> {
    const s = this.study(id);
    const config = edit(jsonCopy(s.rec.config));
    checkNewStudy({ name: s.rec.name, direction: s.rec.direction, config });
    s.rec.config = jsonCopy(config);
    s.revision++;
  }

  async deleteStudy(id: string): Promise<void> {
    this.study(id);
    this.studies.delete(id);
    for (const [tid, t] of this.trials) if (t.rec.studyId === id) this.trials.delete(tid);
  }

  async tickSearchClock(id: string, gapSeconds: number): Promise<number> {
    const s = this.study(id);
    s.clock = tickClock(s.clock, this.clock(), gapSeconds);
    return s.clock.seconds;
  }

  async createTrials(studyId: string, trials: NewTrial[], guard: CreateGuard = {}): Promise<TrialRecord[]> {
    trials.forEach(checkNewTrial);
    const s = this.study(studyId);
    const mine = this.trialsOf(studyId);
    if (guard.snapshot !== undefined && guard.snapshot !== mine.length) throw new StaleSnapshotError(studyId, guard.snapshot, mine.length);
    const fresh = freshTrials(trials, (key) => s.keys.has(key));
    const counted = mine.filter((t) => countsTowardBudget(t.rec.role)).length;
    const n = grant(s.rec.name, fresh, counted, guard.budget);
    const at = now();
    const created = fresh.slice(0, n).map((t, i) => {
      const number = mine.length + i;
      const rec: TrialRecord = {
        id: this.nextTrialId++, studyId, number, state: t.state, role: t.role, params: jsonCopy(t.params), schedule: jsonCopy(t.schedule),
        value: isFinished(t.state) ? (t.value ?? null) : null, failureReason: null, seed: seedFor(t, s.rec.config, number),
        metrics: t.metrics == null ? null : jsonCopy(t.metrics), intermediate: [], lease: null, retries: 0, claims: 0, pruneRequested: false,
        createdAt: at, startedAt: t.state === 'WAITING' ? null : at, finishedAt: isFinished(t.state) ? at : null,
      };
      const stored: StoredTrial = { rec, expiresMs: 0, key: t.key ?? null };
      if (t.state === 'RUNNING') this.grantLease(stored, t.lease!);
      if (t.key !== undefined) s.keys.add(t.key);
      this.trials.set(rec.id, stored);
      return jsonCopy(rec);
    });
    if (created.length) s.revision++;
    return created;
  }

  async trialKeys(studyId: string): Promise<Map<number, string>> {
    this.check();
    return new Map(this.trialsOf(studyId).filter((t) => t.key !== null).map((t) => [t.rec.id, t.key!]));
  }

  async importStudy(snapshot: StudySnapshot, attrsFor?: (idOf: ReadonlyMap<number, number>) => Record<string, unknown>): Promise<StudyRecord> {
    this.check();
    checkSnapshot(snapshot);
    const { study } = snapshot;
    const id = this.newStudyIdFor(study.name);
    const idOf = new Map<number, number>();
    const trials = snapshot.trials.map((t) => {
      const { key, ...fields } = jsonCopy(t);
      const rec: TrialRecord = { ...fields, id: this.nextTrialId++, studyId: id, lease: null, claims: 0 };
      idOf.set(rec.number, rec.id);
      return { rec, expiresMs: 0, key };
    });
    // Everything is built before anything is stored: a throw above leaves no trace (attrsFor included).
    const attrs = jsonCopy(attrsFor ? attrsFor(idOf) : study.attrs);
    const rec = { id, name: study.name, direction: study.direction, state: study.state, config: jsonCopy(study.config), attrs, createdAt: study.createdAt };
    const stored: StoredStudy = { rec, revision: 0, clock: { seconds: study.searchSeconds, lastTickMs: null }, keys: new Set() };
    this.studies.set(id, stored);
    for (const t of trials) {
      this.trials.set(t.rec.id, t);
      if (t.key !== null) stored.keys.add(t.key);
    }
    return this.studyOut(stored);
  }

  async getTrial(studyId: string, trialId: number): Promise<TrialRecord | undefined> {
    this.check();
    const t = this.trials.get(trialId);
    return t && t.rec.studyId === studyId ? jsonCopy(t.rec) : undefined;
  }

  async trialIdByNumber(studyId: string, number: number): Promise<number | undefined> {
    this.check();
    for (const t of this.trials.values()) if (t.rec.studyId === studyId && t.rec.number === number) return t.rec.id;
    return undefined;
  }

  async listTrials(studyId: string, opts: { states?: readonly TrialState[]; withIntermediate?: boolean } = {}): Promise<TrialRecord[]> {
    this.check();
    // Copies handed out SLICE_ITEMS at a time with the event loop let in between, as SQLite reads its pages.
    const source = this.trialsOf(studyId).filter((t) => !opts.states || opts.states.includes(t.rec.state));
    return mapInSlices(source, (t) => {
      const copy = jsonCopy(t.rec);
      if (opts.withIntermediate === false) copy.intermediate = [];
      return copy;
    });
  }

  async claimTrial(studyId: string, trialId: number, lease: LeaseRequest): Promise<Lease | null> {
    checkLease(lease, 'lease');
    const t = this.trial(studyId, trialId);
    if (t.rec.state !== 'WAITING') return null;
    t.rec.state = 'RUNNING';
    t.rec.startedAt = now();
    this.grantLease(t, lease);
    this.bump(studyId);
    return { ...t.rec.lease! };
  }

  async renewLease(studyId: string, trialId: number, token: number, seconds: number): Promise<Lease> {
    checkLeaseSeconds(seconds, 'seconds');
    const t = this.trial(studyId, trialId);
    this.checkToken(t, token);
    this.extend(t, seconds);
    return { ...t.rec.lease! };
  }

  async releaseTrial(studyId: string, trialId: number, token: number): Promise<boolean> {
    const t = this.trial(studyId, trialId);
    if (t.rec.state !== 'RUNNING' || t.rec.claims !== token) return false;
    t.rec.state = 'WAITING';
    t.rec.startedAt = null;
    t.rec.lease = null;
    forgetAttempt(t.rec);
    this.bump(studyId);
    return true;
  }

  async reapExpiredLeases(studyId: string, opts: { maxRetries: number; deadOwners?: string[] }): Promise<TrialRecord[]> {
    this.study(studyId);
    const nowMs = this.clock();
    const out: TrialRecord[] = [];
    for (const t of this.trialsOf(studyId)) {
      if (t.rec.state !== 'RUNNING' || !t.rec.lease) continue;
      const dead = opts.deadOwners?.includes(t.rec.lease.owner) ?? false;
      if (!dead && t.expiresMs > nowMs) continue;
      const outcome = reapOutcome({ retries: t.rec.retries, owner: t.rec.lease.owner }, opts.maxRetries, dead);
      if (outcome.state === 'WAITING') {
        t.rec.state = 'WAITING';
        t.rec.startedAt = null;
        t.rec.retries++;
        forgetAttempt(t.rec);
      } else {
        t.rec.state = 'FAIL';
        t.rec.failureReason = outcome.reason;
        t.rec.finishedAt = now();
      }
      t.rec.lease = null;
      out.push(jsonCopy(t.rec));
    }
    if (out.length) this.bump(studyId);
    return out;
  }

  async addIntermediate(studyId: string, trialId: number, value: IntermediateValue, opts: { token?: number; renewSeconds?: number } = {}): Promise<{ kept: number } | null> {
    checkIntermediate(value);
    if (opts.renewSeconds !== undefined) checkLeaseSeconds(opts.renewSeconds, 'renewSeconds');
    const t = this.trial(studyId, trialId);
    checkReporter(t.rec.number, t.rec.state, t.rec.claims, opts.token, t.rec.failureReason);
    if (opts.renewSeconds !== undefined && t.rec.state === 'RUNNING') this.extend(t, opts.renewSeconds);
    const earlier = t.rec.intermediate.find((v) => v.step === value.step);
    if (earlier) return { kept: earlier.value };
    const entry: IntermediateValue = { step: value.step, value: value.value };
    if (value.metrics != null) entry.metrics = jsonCopy(value.metrics);
    t.rec.intermediate.push(entry);
    t.rec.intermediate.sort((a, b) => a.step - b.step);
    this.bump(studyId);
    return null;
  }

  async requestPrune(studyId: string, trialId: number): Promise<void> {
    const t = this.trial(studyId, trialId);
    if (t.rec.pruneRequested) return;
    t.rec.pruneRequested = true;
    this.bump(studyId);
  }

  async peerValues(studyId: string, q: PeerQuery): Promise<number[]> {
    this.study(studyId);
    const out: number[] = [];
    for (const t of this.trialsOf(studyId)) {
      if (t.rec.id === q.exceptTrialId || !isPrunable(t.rec.role) || (q.states && !q.states.includes(t.rec.state))) continue;
      let hit: IntermediateValue | undefined;
      for (const iv of t.rec.intermediate) {
        if (q.mode === 'at' ? iv.step === q.step : iv.step >= q.step && (!hit || iv.step < hit.step)) hit = iv;
      }
      if (hit) out.push(hit.value);
    }
    return out;
  }

  async finishTrial(studyId: string, trialId: number, result: FinishResult, opts: { token?: number; honourPrune?: boolean } = {}): Promise<TrialRecord> {
    checkFinish(result);
    const t = this.trial(studyId, trialId);
    checkReporter(t.rec.number, t.rec.state, t.rec.claims, opts.token, t.rec.failureReason);
    const at = now();
    t.rec.state = result.state === 'COMPLETE' && opts.honourPrune && t.rec.pruneRequested ? 'PRUNED' : result.state;
    t.rec.value = result.value ?? null;
    t.rec.failureReason = result.failureReason ?? null;
    t.rec.metrics = result.metrics == null ? null : jsonCopy(result.metrics);
    t.rec.finishedAt = at;
    t.rec.startedAt ??= at;
    t.rec.lease = null;
    this.bump(studyId);
    return jsonCopy(t.rec);
  }

  async changeStamp(studyId: string): Promise<number> {
    return this.study(studyId).revision;
  }

  async changeStamps(): Promise<Map<string, number>> {
    this.check();
    return new Map([...this.studies.values()].map((s) => [s.rec.id, s.revision]));
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private grantLease(t: StoredTrial, lease: LeaseRequest): void {
    t.rec.claims++;
    t.expiresMs = this.clock() + lease.seconds * 1000;
    t.rec.lease = { owner: lease.owner, token: t.rec.claims, expiresAt: new Date(t.expiresMs).toISOString() };
  }

  private extend(t: StoredTrial, seconds: number): void {
    t.expiresMs = this.clock() + seconds * 1000;
    t.rec.lease = { ...t.rec.lease!, expiresAt: new Date(t.expiresMs).toISOString() };
  }

  private checkToken(t: StoredTrial, token: number): void {
    checkLeaseToken(t.rec.number, t.rec.state, t.rec.claims, token);
  }

  private byName(name: string): StoredStudy | undefined {
    for (const s of this.studies.values()) if (s.rec.name === name) return s;
    return undefined;
  }

  private trialsOf(studyId: string): StoredTrial[] {
    return [...this.trials.values()].filter((t) => t.rec.studyId === studyId).sort((a, b) => a.rec.number - b.rec.number);
  }

  private studyOut(s: StoredStudy): StudyRecord {
    return { ...jsonCopy(s.rec), searchSeconds: s.clock.seconds };
  }

  private bump(studyId: string): void {
    const s = this.studies.get(studyId);
    if (s) s.revision++;
  }

  private check(): void {
    // Mirrors SQLite, whose methods throw after close: a test that uses a closed store should fail loudly.
    if (this.closed) throw new Error('MemoryStorage is closed');
  }

  private study(id: string): StoredStudy {
    this.check();
    const s = this.studies.get(id);
    if (!s) throw studyNotFound(id);
    return s;
  }

  private trial(studyId: string, trialId: number): StoredTrial {
    this.check();
    const t = this.trials.get(trialId);
    if (!t || t.rec.studyId !== studyId) throw trialNotFound(studyId, trialId);
    return t;
  }
}
