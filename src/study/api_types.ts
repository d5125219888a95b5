// The contract between the HTTP layer and the study service: the server only ever calls a `StudyApi`.
import type { ScheduleSpec, ScheduleTableRow, ExportedSchedule } from '../schedule/types.js';
import type { GpSlice } from '../optimizer/types.js';
import type { StoredFinalValidation } from '../shared/evidence.js';
import type { StudyConfig } from './config.js';
import type { Direction, IntermediateValue, Lease, Params, StudyRecord, StudyState, TrialRecord, TrialRole } from './types.js';
import type { TrialRef } from './service/trial_numbers.js';
import type { WarmStartReport } from './warm_start.js';

/**
 * A lease as an ask or a heartbeat hands it out: `seconds` is its length, which each report or heartbeat renews from
 * then on. A trainer paces its heartbeats by it (a third of it), not by `expiresAt`, which is the storage's clock and
 * may differ from the trainer's by minutes.
 */
export interface GrantedLease extends Lease {
  seconds: number;
}

/**
 * A trial handed to an outside trainer by `ask`: everything needed to apply its schedule without reading our
 * source. `number` is its visible identity (`#n`, what the report and tell routes take); `id` is the storage's.
 */
export interface AskedTrial {
  id: number;
  number: number;
  role: TrialRole;
  params: Params;
  /** The schedule in relative time (t = step / totalSteps). */
  schedule: ScheduleSpec;
  /** The moving-statistics momentum to train this trial with (the tuned one, else the default 0.99). */
  renormMomentum: number;
  /** The run length `table` is resolved for (the ask's totalSteps, else the study's). */
  totalSteps: number;
  /** `{step, rmax, rmin, dmax}` from 0 to totalSteps with every breakpoint: interpolate linearly (src/schedule/table.ts). */
  table: ScheduleTableRow[];
  /** Send `lease.token` with report and tell: once the lease is lost (expired and reclaimed) they are refused with 409 LEASE_LOST. */
  lease: GrantedLease | null;
  seed: number;
  /**
   * Where to score it: `validation` for search, baseline and race trials; `test` for final-validation runs
   * (role `final:<arm>`), which report the study's objective metric measured on the held-out test set.
   */
  evaluateOn: 'validation' | 'test';
  /** Train for this many times the study's run length (final runs at longer lengths: role `final:<arm>@x<m>`). */
  stepsMultiplier: number;
  /** The run length to train for, the same number as `totalSteps` (the ask's or the study's run length x stepsMultiplier); kept for 0.1 clients. */
  steps: number;
}

/** A trial named by its number in its study (what the REST routes take), or by its storage id (what runners hold). */
export type { TrialRef } from './service/trial_numbers.js';

export interface StudySummary {
  id: string;
  name: string;
  state: StudyState;
  direction: Direction;
  /** The objective's metric (valAccuracy when its config names none): how its values read (an accuracy in percent). */
  metric: string;
  executor: 'local' | 'external';
  createdAt: string;
  counts: Record<'WAITING' | 'RUNNING' | 'COMPLETE' | 'PRUNED' | 'FAIL', number>;
  /** Trials budget (baselines included), or null when only a time budget is set. */
  budgetTrials: number | null;
  best: { trialId: number; number: number; value: number } | null;
  baselines: { batchnorm: number | null; paper: number | null };
  /** When it was stopped with `stop` (an ISO time), while it stays so: a run under --unless-stopped leaves it stopped. */
  stopRequestedAt: string | null;
}

export type { FinalScore, FinalValidationReport, StoredFinalValidation } from '../shared/evidence.js';

/** The body of `GET /api/studies/:id` and of `renorm-tune show --json`. */
export interface StudyView extends StudySummary {
  config: Record<string, unknown>;
  totalSteps: number | null;
  /** Search time spent so far (the study's search clock). */
  searchSeconds: number;
  trials: TrialRecord[];
  /** The paired report (FinalValidationReport), or the first, unpaired shape for studies stored before it; read either with readFinalValidation. */
  finalValidation: StoredFinalValidation | null;
  /** What `warmStartFrom` copied (null without one, or while the create is unfinished). */
  warmStart: WarmStartReport | null;
  /**
   * Only in a lean view (curves 'top'): the ids of the trials whose curves it carries, those the study page draws
   * (the best search trials, the baselines, every unfinished trial: src/shared/charted.ts). Every other trial's
   * `intermediate` is empty there; GET /api/studies/:id/trials/:number has it.
   */
  curveTrials?: number[];
}

/** Which curves a study's view carries: every trial's (the default), or only those the study page draws. */
export type ViewCurves = 'all' | 'top';

/** The parts of a study's view written as results while it runs (the evidence phase's report, a warm start's). */
export type StudyResults = Pick<StudyView, 'finalValidation' | 'warmStart'>;

/** `GET /api/studies/:id/importance`: each schedule parameter's share of the objective's variation under the model. */
export interface ImportanceView {
  /** True when `importance` holds shares (status 'available'). */
  available: boolean;
  /**
   * 'too-few-trials': no model yet. 'flat': the model sees no variation (every finished trial has the same value, or
   * its posterior mean is nearly constant: the differences look like noise), so there are no shares to tell.
   */
  status: 'available' | 'too-few-trials' | 'flat';
  /** Why there are no shares, in words. */
  reason?: string;
  /** Parameter name -> share (summing to 1), largest first. */
  importance?: Record<string, number>;
  /**
   * With shares: the parameters given one (>= 0.05) that the finished trials do not yet need, since the model fitted
   * without one explains them about as well (under 1 nat of evidence lost). Their shares may belong to another
   * parameter; more trials will tell.
   */
  tentative?: string[];
  method?: string;
  /**
   * With a model: the finished trials (failures included) it had when this was computed. Past 60 of them a result
   * is kept until 10% more have finished (src/optimizer/importance.ts, RECOMPUTE_FROM): each costs 20-30 fits.
   */
  observations?: number;
}

/** The optimizer's recommendation: the best observed point by posterior mean, the prediction there and what was measured. */
export interface RecommendationView {
  params: Params;
  /** Predicted objective (posterior mean), in the metric's units. */
  mean: number;
  /** Its posterior standard deviation; null for an optimizer without a model (random search). */
  sd: number | null;
  /** The value measured there. */
  observed: number | null;
  trialNumber: number | null;
  trialId: number | null;
}

/** The GP's beliefs along each parameter through the best point (for the dashboard). */
export interface GpView {
  available: boolean;
  reason?: string;
  center?: Params;
  slices?: GpSlice[];
}

/** A trial without its curve: what a state change sends (the curve arrives point by point as `report` events). */
export type TrialSummary = Omit<TrialRecord, 'intermediate'>;

/**
 * Live events, incremental so a stream costs the same however long the study: `trial` (state or value changed),
 * `report` (one new point of a curve), `study` (study-level change; `results` when the study's results changed, e.g.
 * a new final-validation report; `refetch` when a viewer should reload the study: a rename or a new config or budget,
 * or another process's change too large to tell trial by trial), `deleted` (the study and its trials are gone,
 * deleted by this process or another: the last event of its stream).
 */
export type StudyEvent =
  | { type: 'study'; studyId: string; state: StudyState; refetch?: boolean; results?: StudyResults }
  | { type: 'deleted'; studyId: string }
  | { type: 'trial'; studyId: string; trial: TrialSummary }
  | { type: 'report'; studyId: string; trialId: number; number: number; point: IntermediateValue };

/** What a report answers: whether the pruner wants the trial stopped, and why the report was not stored, if it was not. */
export interface ReportAnswer {
  prune: boolean;
  /** Set when the step already had another value (the first report of a step is kept); a plain retry sets nothing. */
  ignored?: string;
}

/**
 * Everything the REST API does; every study argument is an id or a name. Methods reject with RenormTuneError
 * subclasses (ConfigError 400, NotFoundError 404, ConflictError 409 and its coded kinds).
 */
export interface AskOptions {
  /** The run length the trials' tables are resolved for (else the study's). */
  totalSteps?: number;
  /**
   * Names this ask, so that sending it again is safe: while the trials it handed out are still out under its leases,
   * the same ask answers with them again instead of handing out more (an answer lost to a server restart mid-call).
   */
  askId?: string;
}

export interface StudyApi {
  /** With `config.warmStartFrom`, the earlier study's finished trials are copied in as warm-start observations. */
  createStudy(config: StudyConfig): Promise<StudyRecord>;
  listStudies(): Promise<StudySummary[]>;
  /** With `curves: 'top'`, only the curves the study page draws (StudyView.curveTrials). */
  getStudyView(study: string, opts?: { curves?: ViewCurves }): Promise<StudyView>;
  /** One trial with its curve, as the view lists it; a number the study lacks is NotFoundError naming the numbers it has. */
  getTrialView(study: string, trial: TrialRef): Promise<TrialRecord>;
  ask(study: string, count: number, opts?: AskOptions): Promise<AskedTrial[]>;
  report(study: string, trial: TrialRef, step: number, value: number, opts?: { metrics?: Record<string, unknown>; token?: number }): Promise<ReportAnswer>;
  /** `metrics`: the trial's final metrics, stored as its trainer's would be (what it trained on, by whom, a test score). */
  tell(study: string, trial: TrialRef, outcome: { value: number } | { failed: string }, opts?: { token?: number; metrics?: Record<string, unknown> }): Promise<TrialRecord>;
  /** Renews the lease the caller holds (`token`) for the study's leaseSeconds, as a report would, without a value. */
  heartbeat(study: string, trial: TrialRef, token: number): Promise<GrantedLease>;
  /** Hands back a trial the caller holds the lease of (`token`) and cannot finish: WAITING again, for the next ask. */
  release(study: string, trial: TrialRef, token: number): Promise<TrialRecord>;
  /** Raises budget.trials and/or budget.timeMinutes; a COMPLETE study becomes resumable (STOPPED). */
  extendStudy(study: string, budget: { trials?: number; timeMinutes?: number }): Promise<StudySummary>;
  /** STOPPED: asks are refused (409 STUDY_STOPPED) until resumed; trials already out may still report and tell. */
  stopStudy(study: string): Promise<StudySummary>;
  /** An external study takes asks again (a local one resumes with `renorm-tune run`). */
  resumeStudy(study: string): Promise<StudySummary>;
  renameStudy(study: string, name: string): Promise<StudySummary>;
  /** The study and everything in it. */
  deleteStudy(study: string): Promise<{ id: string; name: string; trials: number }>;
  /** Queues a schedule of the user's own, evaluated before any new suggestion (role `enqueued`). */
  enqueue(study: string, schedule: ScheduleSpec, opts?: { renormMomentum?: number }): Promise<TrialRecord>;
  bestSchedule(study: string): Promise<ExportedSchedule>;
  gpView(study: string): Promise<GpView>;
  importance(study: string): Promise<ImportanceView>;
  /** Resolves once the study is known to exist (NotFoundError otherwise); the returned function stops the stream. */
  subscribe(study: string, listener: (event: StudyEvent) => void): Promise<() => void>;
}
