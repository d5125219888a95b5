// The storage contract of a study: records and the one async interface every backend (RAM, SQLite, PostgreSQL) implements.
import type { Direction, Params } from '../optimizer/types.js';
import type { ScheduleSpec } from '../schedule/types.js';
import type { TrialRole } from '../shared/roles.js';
import type { TrialTally } from '../shared/summary.js';

export type { Direction, ParamValue, Params } from '../optimizer/types.js';
export type { TrialRole } from '../shared/roles.js';
export type TrialState = 'WAITING' | 'RUNNING' | 'COMPLETE' | 'PRUNED' | 'FAIL';
export type StudyState = 'CREATED' | 'RUNNING' | 'STOPPED' | 'COMPLETE';

/** One progress report of a trial: `value` is the objective metric at `step`; `metrics` holds the rest (loss, train-mode accuracy, clip fractions). */
export interface IntermediateValue {
  step: number;
  value: number;
  metrics?: Record<string, unknown>;
}

/** The database lease on a RUNNING trial: the one authority on who runs it. `token` fences out a former holder. */
export interface Lease {
  owner: string;
  /** Grows by one at every claim of this trial: a report or finish carrying an older token is refused. */
  token: number;
  /** ISO time by the storage's clock; past it the lease may be reaped (requeued, or failed after maxRetries). */
  expiresAt: string;
}

/** What a claimer asks for: who it is (host:pid:random, or `external`) and for how long. */
export interface LeaseRequest {
  owner: string;
  seconds: number;
}

export interface TrialRecord {
  id: number;
  studyId: string;
  /** 0-based order of creation within the study: the trial's visible identity (`#number`). */
  number: number;
  state: TrialState;
  role: TrialRole;
  params: Params;
  schedule: ScheduleSpec;
  value: number | null;
  failureReason: string | null;
  /** Training seed; by default derived from the study seed and `number` by the storage. */
  seed: number;
  /** Final metrics returned by the trainer (valAccuracy, testAccuracy, backend, steps, ...). */
  metrics: Record<string, unknown> | null;
  intermediate: IntermediateValue[];
  /** Set while RUNNING. */
  lease: Lease | null;
  /** How often an expired lease sent it back to the queue. */
  retries: number;
  /**
   * How often it was handed out: its latest lease's fencing token, kept once the lease ends (a hand-back, a
   * requeue), so a record of the trial back in the queue can be ordered against one of an earlier claim. 0 if never;
   * a copy (`renorm-tune copy`) starts over at 0, as its leases do.
   */
  claims: number;
  /** A pruner asked it to stop: a value told afterwards is recorded PRUNED. Survives restarts. */
  pruneRequested: boolean;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface StudyRecord {
  id: string;
  name: string;
  direction: Direction;
  state: StudyState;
  /** The validated study config, stored verbatim. */
  config: Record<string, unknown>;
  /** Per-study JSON results (final validation report, ...). */
  attrs: Record<string, unknown>;
  /** Search time spent so far (the study's search clock, kept by the storage). */
  searchSeconds: number;
  createdAt: string;
}

/**
 * A whole study as another store takes it in (`importStudy`, for `renorm-tune copy`): everything a store keeps of it
 * but its ids, leases (and claim counts) and change counters. Trials are in number order and none is RUNNING (a lease does not travel).
 */
export interface StudySnapshot {
  study: Omit<StudyRecord, 'id'>;
  trials: SnapshotTrial[];
}
/** A trial of a snapshot: its record without ids or lease, with its idempotency key (baselines, race and final runs). */
export type SnapshotTrial = Omit<TrialRecord, 'id' | 'studyId' | 'lease' | 'claims'> & { key: string | null };

export type FinishState = 'COMPLETE' | 'PRUNED' | 'FAIL';

/** How a trial ended; the one definition (the executor, the service and every storage use it). */
export interface FinishResult {
  state: FinishState;
  value?: number | null;
  failureReason?: string | null;
  metrics?: Record<string, unknown> | null;
}

/** Fields a new trial is created with; the storage assigns id, number, timestamps and (by default) the seed. */
export interface NewTrial {
  /** WAITING (queued), RUNNING (handed out at once: needs `lease`), or finished (only for `warm-start` copies). */
  state: TrialState;
  role: TrialRole;
  params: Params;
  schedule: ScheduleSpec;
  /** Default: derived from the study seed and the assigned number (`trialSeed`). */
  seed?: number;
  /** Required with state RUNNING. */
  lease?: LeaseRequest;
  /** Idempotency key: a trial whose key already exists in the study is skipped, never created twice (baselines, final runs). */
  key?: string;
  /** For finished warm-start copies. */
  value?: number | null;
  metrics?: Record<string, unknown> | null;
}

/** Conditions `createTrials` checks in the same transaction as the insert. */
export interface CreateGuard {
  /**
   * The trial count the caller's suggestions were computed from: if the study has gained a trial since, the
   * insert is refused with StaleSnapshotError (recompute with the new pending trials and retry). This is what
   * keeps two servers from handing out the same suggestion.
   */
  snapshot?: number;
  /** At most this many trials that count toward the budget (countsTowardBudget); the batch is cut to fit, BudgetExhaustedError when none fits. */
  budget?: number;
}

/** Which peer values a pruner compares against (one indexed query, not a read of the whole study). */
export interface PeerQuery {
  step: number;
  /** `at`: values reported exactly at `step`; `firstAtOrAfter`: each trial's first value at or after it (ASHA rungs). */
  mode: 'at' | 'firstAtOrAfter';
  /** Default: every state. */
  states?: readonly TrialState[];
  exceptTrialId?: number;
}

/**
 * Every method commits before it resolves: callers act only on state that is durable. State transitions are
 * checked in the same transaction as the write, so concurrent callers (threads, processes, machines) serialise.
 * Implementations: MemoryStorage (tests, `:memory:`), SqliteStorage (the embedded default), PgStorage.
 */
export interface Storage {
  /** `sqlite`, `memory` or `postgres`: for messages and capability checks. */
  readonly kind: string;

  createStudy(study: { name: string; direction: Direction; config: Record<string, unknown> }): Promise<StudyRecord>;
  getStudy(id: string): Promise<StudyRecord | undefined>;
  findStudyByName(name: string): Promise<StudyRecord | undefined>;
  listStudies(): Promise<StudyRecord[]>;
  /**
   * Per study with trials, what its summary needs of them (counts, best, baselines: `tally` in src/shared/summary.ts
   * gives the same answer from the trials), without reading them: the SQL stores aggregate. Studies without trials are
   * absent. With `studyId`, only that study's (an unknown id gives an empty map).
   */
  trialTallies(studyId?: string): Promise<Map<string, TrialTally>>;
  /** With `attrs`, those study attrs are written in the same transaction, each as setStudyAttr writes it. */
  setStudyState(id: string, state: StudyState, attrs?: Readonly<Record<string, unknown>>): Promise<void>;
  setStudyAttr(id: string, key: string, value: unknown): Promise<void>;
  /** ConflictError if the name is taken. The stored config's `name`, when it has one, moves in the same transaction. */
  renameStudy(id: string, name: string): Promise<void>;
  /**
   * Replaces the stored config with `edit(stored)`, read and written in one transaction, so that two edits of
   * different fields (an extend and a rename from two processes) never undo each other. The caller validates;
   * `edit` may throw, and then nothing changes.
   */
  updateStudyConfig(id: string, edit: (config: Record<string, unknown>) => Record<string, unknown>): Promise<void>;
  /** The study and everything in it. */
  deleteStudy(id: string): Promise<void>;
  /**
   * Advances the study's search clock to now and returns its total (seconds). Gaps longer than `gapSeconds` since
   * the last tick (nobody was working: a crash, a stopped study) are not counted, and concurrent tickers (two
   * coordinators) never count the same second twice.
   */
  tickSearchClock(id: string, gapSeconds: number): Promise<number>;

  /** Returns the trials created (keyed ones that already existed are skipped), numbered in order. See CreateGuard. */
  createTrials(studyId: string, trials: NewTrial[], guard?: CreateGuard): Promise<TrialRecord[]>;
  getTrial(studyId: string, trialId: number): Promise<TrialRecord | undefined>;
  /** The id of the study's trial `number` (#n), or undefined: one indexed read, however large the study. */
  trialIdByNumber(studyId: string, number: number): Promise<number | undefined>;
  /**
   * Ordered by number. Intermediate values are included unless `withIntermediate: false`. Records are the caller's
   * to read, not to change: a store may hand out copies or shared frozen records (PostgreSQL's incremental listing).
   */
  listTrials(studyId: string, opts?: { states?: readonly TrialState[]; withIntermediate?: boolean }): Promise<TrialRecord[]>;

  /** WAITING -> RUNNING under a new lease; null if it was not WAITING (someone else claimed it). */
  claimTrial(studyId: string, trialId: number, lease: LeaseRequest): Promise<Lease | null>;
  /** Extends a held lease; LeaseLostError if the trial is no longer RUNNING under `token`. */
  renewLease(studyId: string, trialId: number, token: number, seconds: number): Promise<Lease>;
  /**
   * RUNNING(token) -> WAITING, no retry counted (a clean hand-back: Ctrl-C, SIGTERM). false if the lease was already lost.
   * A trial back in the queue starts over: its intermediate values and prune request go (here and when reaped), or
   * the old attempt's curve would hide the next one's, whose reports of a step already stored are ignored.
   */
  releaseTrial(studyId: string, trialId: number, token: number): Promise<boolean>;
  /**
   * RUNNING trials whose lease expired by the storage's clock (or whose owner is in `deadOwners`) go back to
   * WAITING with retries + 1 (starting over, as releaseTrial says), or FAIL with the reason once retries reach
   * `maxRetries`. Returns the changed trials.
   */
  reapExpiredLeases(studyId: string, opts: { maxRetries: number; deadOwners?: string[] }): Promise<TrialRecord[]>;

  /**
   * A repeated step keeps the first value (a retried report must not fail): the answer is then the value already
   * stored at that step, else null. With `token`, a stale lease is refused (LeaseLostError); with `renewSeconds`,
   * a RUNNING trial's lease is extended in the same transaction.
   */
  addIntermediate(studyId: string, trialId: number, value: IntermediateValue, opts?: { token?: number; renewSeconds?: number }): Promise<{ kept: number } | null>;
  /** Marks the trial pruned-on-request (idempotent). */
  requestPrune(studyId: string, trialId: number): Promise<void>;
  /** See PeerQuery; only search and enqueued trials are peers. */
  peerValues(studyId: string, query: PeerQuery): Promise<number[]>;
  /**
   * WAITING/RUNNING -> COMPLETE | PRUNED | FAIL; ConflictError if already finished, LeaseLostError if `token` is
   * stale. With `honourPrune`, a COMPLETE on a trial with pruneRequested is recorded PRUNED.
   */
  finishTrial(studyId: string, trialId: number, result: FinishResult, opts?: { token?: number; honourPrune?: boolean }): Promise<TrialRecord>;

  /**
   * A cheap watermark of the study's stored state: every change above, by this connection or another process's,
   * moves it. Only equality is meaningful. Throws NotFoundError.
   */
  changeStamp(studyId: string): Promise<number>;
  /** Every study's changeStamp, by study id, in one read. */
  changeStamps(): Promise<Map<string, number>>;
  /**
   * Optional: runs `fn` holding a lock on the study that other processes' `lockStudy` calls wait for (PostgreSQL
   * advisory locks), for a while: past the store's lock wait `fn` runs without it. Without the lock, concurrent asks
   * of several processes are kept apart by CreateGuard.snapshot alone.
   * `fn` gets the study's trials without values as listed just after the lock was granted (read with it, in one
   * round trip); NotFoundError-free: an unknown study lists nothing.
   */
  lockStudy?<T>(studyId: string, fn: (listed: TrialRecord[]) => Promise<T>): Promise<T>;
  /**
   * Optional push notification of changes made by any process (PostgreSQL LISTEN/NOTIFY). Without it the
   * service polls changeStamp while someone watches.
   */
  onChange?(listener: (studyId: string) => void): () => void;
  /** The idempotency keys of the study's keyed trials, by trial id (an unknown study gives an empty map). */
  trialKeys(studyId: string): Promise<Map<number, string>>;
  /**
   * Creates a study with every trial of `snapshot` as it is, in one transaction: all of it or nothing. New ids; the
   * name must be free (ConflictError). See checkSnapshot for what is refused. The study's attrs are
   * `attrsFor(idOf)` when given (`idOf`: trial number -> the new trial id), for results that name trials by id.
   */
  importStudy(snapshot: StudySnapshot, attrsFor?: (idOf: ReadonlyMap<number, number>) => Record<string, unknown>): Promise<StudyRecord>;
  close(): Promise<void>;
}
