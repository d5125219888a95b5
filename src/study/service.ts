// The study service: the one door between the edges (REST, CLI, runner, workers) and storage + optimizer + pruner.
import { ConfigError, ConflictError, DataError, NotFoundError, RequestError } from '../errors.js';
import { scheduleTable } from '../schedule/table.js';
import type { ExportedSchedule, ScheduleSpec } from '../schedule/types.js';
import { bestTrial } from '../shared/best.js';
import { CLI, DEFAULT_RENORM_MOMENTUM } from '../shared/names.js';
import { countsTowardBudget, isEvidenceRole, isPrunable, roleKind } from '../shared/roles.js';
import type { AskedTrial, AskOptions, GpView, GrantedLease, ImportanceView, RecommendationView, ReportAnswer, StudyApi, StudyEvent, StudySummary, StudyView, ViewCurves } from './api_types.js';
import { baselineTrials } from './baselines.js';
import { validateBudget, DEFAULT_FINAL_VALIDATION, DEFAULT_LEASE_SECONDS, DEFAULT_MAX_RETRIES, type StudyConfig, objectiveBounds, studyTotalSteps } from './config.js';
import { attrsDiffer, copyDiffers, remapTrialIds, snapshotOf, type StudyCopySource } from './copy.js';
import { checkEnqueuedSchedule, enqueuedTrial } from './enqueue.js';
import { ASKED_TOTAL_STEPS } from './export.js';
import { BudgetExhaustedError, LeaseLostError, NoSuchTrialError, StaleSnapshotError, StudyStoppedError } from './errors.js';
import { checkReporter } from './storage/rules.js';
import { evidencePlan, hasEvidencePhase, openEvidenceRuns, pickerFor, pickRecord, searchedCount, searchedWhenPicked, type PickRecord } from './evidence.js';
import { chosenPicker, type FinalPicker } from './pick.js';
import { stepsMultiplierOf } from './final.js';
import { studyFinalReport } from './final_summary.js';
import { askOwner, EXTERNAL_OWNER } from './owner.js';
import { createPruner, type Pruner } from './pruners/index.js';
import { mergeScheduleSpace } from './schedule_space.js';
import { StudyEventBus } from './service/events.js';
import { KeyedMutex } from './service/mutex.js';
import { StudyOptimizer, type SuggestingOptimizer } from './service/optimizer_sync.js';
import { type TrialRef, TrialNumbers } from './service/trial_numbers.js';
import { TallyCache } from './service/tally_cache.js';
import { studyResults, studyView, summaryOf, trialSummary } from './service/views.js';
import { trialsWithDrawnCurves } from './service/view_curves.js';
import { ForeignEvents } from './service/foreign_events.js';
import { isOpen } from '../shared/attempts.js';
import { ChangeWatcher, DEFAULT_WATCH_INTERVAL_MS } from './service/watch.js';
import { unavailableWarmStart, warmStartTrials } from './warm_start.js';
import { liftedStopRequest, STOP_REQUEST } from './stop_request.js';
import type { FinishResult, IntermediateValue, Lease, LeaseRequest, NewTrial, Params, Storage, StudyRecord, StudyState, TrialRecord, TrialState } from './types.js';

type WarmStart = ReturnType<typeof warmStartTrials>;

/** The pieces the service plugs together; the defaults come from the optimizer and export packages. */
export interface ServiceDeps {
  createOptimizer(config: StudyConfig): SuggestingOptimizer;
  paramsToSchedule(params: Params, config: StudyConfig): { schedule: ScheduleSpec; renormMomentum?: number };
  buildExport(study: StudyRecord, trials: TrialRecord[], model: RecommendationView | null): ExportedSchedule;
}

export interface ServiceOptions {
  /**
   * How often a watched study's storage is polled for changes made by other processes (a `run` writing the
   * database that this `serve` reads), ms; storages with push notifications (PostgreSQL) are not polled. Default
   * 1000; 0 streams only this process's own changes.
   */
  watchIntervalMs?: number;
}

/** How often an insert whose snapshot went stale (another server asked meanwhile) is recomputed before giving up. */
const ASK_ATTEMPTS = 8;

/** Stored configs were validated on the way in; fields added since 0.1 get their defaults here. */
export function configOf(study: StudyRecord): StudyConfig {
  const c = study.config as unknown as StudyConfig;
  const fv: Partial<StudyConfig['finalValidation']> = c.finalValidation ?? {};
  const d = DEFAULT_FINAL_VALIDATION;
  return {
    ...c,
    leaseSeconds: c.leaseSeconds ?? DEFAULT_LEASE_SECONDS[c.executor === 'external' ? 'external' : 'local'],
    maxRetries: c.maxRetries ?? DEFAULT_MAX_RETRIES,
    baselines: c.baselines ?? true,
    finalValidation: { seeds: fv.seeds ?? d.seeds, stepsMultipliers: fv.stepsMultipliers ?? [...d.stepsMultipliers], race: fv.race ?? { ...d.race } },
  };
}

/** The most trials one ask hands out (a queue coordinator with more slots asks again on its next pass). */
export const MAX_ASK = 1000;

/** `budget` with the limits in `raise` raised: ConfigError when one is not above the current value or the study has no such limit. */
function raisedBudget(name: string, current: StudyConfig['budget'], raise: { trials?: number; timeMinutes?: number }, config: Pick<StudyConfig, 'executor' | 'baselines'>, used: number): StudyConfig['budget'] {
  const out = { ...current };
  for (const key of ['trials', 'timeMinutes'] as const) {
    const to = raise[key];
    if (to === undefined) continue;
    const now = out[key];
    if (now === undefined) {
      const other = key === 'trials' ? 'timeMinutes' : 'trials';
      throw new ConfigError(key, `study '${name}' has no ${key} budget to extend (it is not limited by ${key === 'trials' ? 'a trial count' : 'time'})`,
        out[other] !== undefined ? `extend ${other} instead` : 'nothing to extend: it has no budget at all, and takes asks until it is stopped');
    }
    if (!(to > now)) throw new ConfigError(key, `must be above the current budget.${key} = ${now}, got ${to}`, `give the new total, e.g. ${key === 'trials' ? now + 10 : now * 2}`);
    if (key === 'trials' && !(to > used)) throw new ConfigError(key, `must be above the ${used} trials the study has used, got ${to}`, `give the new total, e.g. ${used + 10}`);
    out[key] = to;
  }
  // The new totals obey the rules a new study's budget does (whole trials, at most 100,000), checked in one place.
  return validateBudget(out, config.executor === 'external', config.baselines !== false);
}

/** What a study's config fixes at creation (extend and rename change only the budget and the name). */
type FixedConfig = Pick<StudyConfig, 'objective' | 'maxRetries'>;

function fixedOf(study: StudyRecord): FixedConfig {
  const c = configOf(study);
  return { objective: c.objective, maxRetries: c.maxRetries };
}

/** What `advanceEvidence` found: the search still runs, evidence runs are out (or were just queued), or all is done. */
export type EvidenceState = 'search' | 'waiting' | 'done';

export class StudyService implements StudyApi {
  private readonly bus = new StudyEventBus();
  private readonly asks = new KeyedMutex();
  /**
   * Study ids `resolve` has found (ids are never reused), with what their config fixes at creation: an ask by id
   * starts without a read, and a tell by id checks its value against the objective without reading the study.
   */
  private readonly known = new Map<string, FixedConfig>();
  /** Studies whose create this service has seen complete (ensureCreated), so an ask need not look again. */
  private readonly created = new Set<string>();
  private readonly optimizers = new Map<string, StudyOptimizer>();
  private readonly pruners = new Map<string, Pruner>();
  private readonly numbers = new TrialNumbers();
  private readonly tallies = new TallyCache();
  private readonly watcher: ChangeWatcher;
  private readonly foreign: ForeignEvents;

  constructor(private readonly storage: Storage, private readonly deps: ServiceDeps, opts: ServiceOptions = {}) {
    this.foreign = new ForeignEvents(storage, (event) => this.bus.emit(event));
    this.watcher = new ChangeWatcher(storage, this.foreign, opts.watchIntervalMs ?? DEFAULT_WATCH_INTERVAL_MS);
  }

  /** `sqlite`, `memory` or `postgres`. */
  get storageKind(): string {
    return this.storage.kind;
  }

  // ---- studies --------------------------------------------------------------------------------------------

  /**
   * `config` was validated at the edge. Its two baselines are queued at once (unless `baselines: false`), so they
   * run first: a local study's runner takes them first, an outside trainer's first asks hand them out.
   * With `warmStartFrom`, the earlier study's finished trials are copied in as `warm-start` observations; an
   * incompatible source is refused before anything is written.
   */
  async createStudy(config: StudyConfig): Promise<StudyRecord> {
    // Read and checked before anything is written: an incompatible or missing source refuses the create.
    const warm = config.warmStartFrom === undefined ? undefined : await this.warmStart(config, config.warmStartFrom);
    const study = await this.storage.createStudy({ name: config.name, direction: config.objective.direction, config: config as unknown as Record<string, unknown> });
    await this.ensureCreated(study.id, warm);
    this.emit({ type: 'study', studyId: study.id, state: study.state });
    return config.warmStartFrom === undefined ? study : this.resolve(study.id);
  }

  /**
   * The writes of a create after the study row: its baselines and its warm start. Both are keyed, so repeating them
   * adds nothing; a create cut short (the process killed, the storage gone between two writes) is finished by the
   * next `run`, coordinator or ask of the study instead of leaving it without them for good. `warm`: the copy
   * createStudy already read.
   */
  async ensureCreated(studyId: string, warm?: WarmStart): Promise<void> {
    const study = await this.resolve(studyId);
    await this.queueBaselines(study);
    const config = configOf(study);
    if (config.warmStartFrom !== undefined && study.attrs.warmStart === undefined) {
      // A source gone since the create checked it copies nothing and says so: refusing would refuse every ask.
      const copy = warm ?? await this.warmStart(config, config.warmStartFrom, 'report');
      await this.storage.createTrials(study.id, copy.trials);
      await this.setStudyAttr(study.id, 'warmStart', copy.report);
    }
    this.created.add(studyId);
  }

  /** `ifGone`: a missing source refuses (a create) or is reported as nothing copied (finishing a create cut short). */
  private async warmStart(config: StudyConfig, from: string, ifGone: 'refuse' | 'report' = 'refuse'): Promise<WarmStart> {
    let source: StudyRecord;
    try {
      source = await this.resolve(from);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      if (ifGone === 'report') return unavailableWarmStart(from);
      throw new ConfigError('warmStartFrom', `there is no study '${from}' to warm-start from`, `\`${CLI} studies\` lists them`);
    }
    const trials = await this.storage.listTrials(source.id, { withIntermediate: false });
    return warmStartTrials(config, mergeScheduleSpace(config.space), source, mergeScheduleSpace(configOf(source).space), trials);
  }

  /** The study of `config.name` if it exists (then it resumes), else a new one. */
  async openStudy(config: StudyConfig): Promise<{ study: StudyRecord; resumed: boolean }> {
    const existing = await this.storage.findStudyByName(config.name);
    if (existing) return { study: existing, resumed: true };
    try {
      return { study: await this.createStudy(config), resumed: false };
    } catch (err) {
      // Two processes opening one new name at once (two coordinators started together): the loser resumes the winner's.
      const won = err instanceof ConflictError ? await this.storage.findStudyByName(config.name) : undefined;
      if (!won) throw err;
      return { study: won, resumed: true };
    }
  }

  /**
   * Never reads every trial: the tallies are aggregates, kept between lists and recomputed only for studies that
   * changed since (a dashboard's landing page lists every 5 s).
   */
  async listStudies(): Promise<StudySummary[]> {
    const studies = await this.storage.listStudies();
    const tallies = await this.tallies.tallies(this.storage);
    return studies.map((s) => summaryOf(s, tallies.get(s.id)));
  }

  async getStudyView(ref: string, opts: { curves?: ViewCurves } = {}): Promise<StudyView> {
    const study = await this.resolve(ref);
    if (opts.curves !== 'top') return studyView(study, await this.storage.listTrials(study.id), studyTotalSteps(study.config));
    const { trials, withCurves } = await trialsWithDrawnCurves(this.storage, study);
    return { ...studyView(study, trials, studyTotalSteps(study.config)), curveTrials: withCurves };
  }

  async getTrialView(ref: string, trial: TrialRef): Promise<TrialRecord> {
    const id = await this.idOf(ref);
    return this.getTrial(id, await this.trialIdOf(id, trial));
  }

  /** An id or a name: ids first (unique by construction), then names, as the CLI always did. */
  async resolve(ref: string): Promise<StudyRecord> {
    const byId = await this.storage.getStudy(ref);
    const s = byId ?? (await this.storage.findStudyByName(ref));
    if (!s) throw new NotFoundError(`study '${ref}' (neither an id nor a name; \`${CLI} studies\` lists them)`);
    if (!this.known.has(s.id)) this.known.set(s.id, fixedOf(s));
    return s;
  }

  /** The study id `ref` names: without a read when `ref` is an id already seen (ids are never reused; names move). */
  private async idOf(ref: string): Promise<string> {
    return this.known.has(ref) ? ref : (await this.resolve(ref)).id;
  }

  // ---- study management (the CLI verbs and their routes) ------------------------------------------------------

  /** Raises budget.trials and/or budget.timeMinutes (never lowers: what was spent stays spent); a COMPLETE study becomes resumable. */
  async extendStudy(ref: string, raise: { trials?: number; timeMinutes?: number }): Promise<StudySummary> {
    const study = await this.resolve(ref);
    if (raise.trials === undefined && raise.timeMinutes === undefined) throw new ConfigError('budget', 'needs trials or timeMinutes', 'e.g. {"trials": 40}');
    // Raised on the config as stored when written, so a rename or another extend at the same moment is kept.
    // A study may hold more than its budget (one created before budgets counted its baselines): a total at or
    // below what it used would reopen it for nothing.
    const used = raise.trials === undefined ? 0 : (await this.storage.listTrials(study.id)).filter((t) => countsTowardBudget(t.role)).length;
    await this.storage.updateStudyConfig(study.id, (config) => ({ ...config, budget: raisedBudget(study.name, (config as Partial<StudyConfig>).budget ?? {}, raise, config as unknown as StudyConfig, used) }));
    // A study that ended for want of budget has more now: an outside trainer's asks are granted again at once; a
    // local one waits, resumable, for `run` (its runner owns its trials).
    if (study.state === 'COMPLETE') await this.storage.setStudyState(study.id, configOf(study).executor === 'external' ? 'RUNNING' : 'STOPPED');
    return this.changed(study.id);
  }

  /**
   * No new trials until resumed (409 STUDY_STOPPED on ask); trials already handed out may still report and tell.
   * Recorded as a request (src/study/stop_request.ts): a run started under `--unless-stopped` leaves it stopped.
   */
  async stopStudy(ref: string): Promise<StudySummary> {
    const study = await this.resolve(ref);
    if (study.state === 'COMPLETE') throw new ConflictError(`study '${study.name}' is complete: there is nothing to stop (extend its budget to continue it)`);
    // The state and the request in one transaction: a stop is never half a request.
    await this.storage.setStudyState(study.id, 'STOPPED', { [STOP_REQUEST]: new Date().toISOString() });
    return this.changed(study.id);
  }

  /**
   * Lifts a stop request. An external study takes asks again; a local one stays STOPPED until a run resumes it (the
   * runner owns its trials), now also one started under `--unless-stopped`.
   */
  async resumeStudy(ref: string): Promise<StudySummary> {
    const study = await this.resolve(ref);
    if (study.state === 'COMPLETE') throw new ConflictError(`study '${study.name}' is complete (fix: extend its budget to continue it)`);
    const lift = liftedStopRequest(study);
    if (study.state === 'STOPPED' && configOf(study).executor === 'external') await this.storage.setStudyState(study.id, 'RUNNING', lift);
    else if (lift) await this.storage.setStudyAttr(study.id, STOP_REQUEST, null);
    return this.changed(study.id);
  }

  /** `name` was checked at the edge (studyName); ConflictError when another study has it. */
  async renameStudy(ref: string, name: string): Promise<StudySummary> {
    const study = await this.resolve(ref);
    // The store moves the stored config's name too: it says what ran, its name included (`show --json`).
    await this.storage.renameStudy(study.id, name);
    return this.changed(study.id);
  }

  /** The study and all its trials; what was deleted, for the caller to say. */
  async deleteStudy(ref: string): Promise<{ id: string; name: string; trials: number }> {
    const study = await this.resolve(ref);
    const trials = (await this.storage.listTrials(study.id, { withIntermediate: false })).length;
    await this.storage.deleteStudy(study.id);
    this.forget(study.id);
    this.numbers.forget(study.id);
    this.emit({ type: 'deleted', studyId: study.id });
    return { id: study.id, name: study.name, trials };
  }

  /**
   * The study whole, to copy it to another store (src/study/copy.ts), under `name` when given. A create cut short is
   * finished first, here, as the study's next run or ask would: in the copy its warm start would look for its source
   * in the wrong database.
   */
  async snapshot(ref: string, name?: string): Promise<StudyCopySource> {
    await this.ensureCreated((await this.resolve(ref)).id);
    const study = await this.resolve(ref);
    const trials = await this.storage.listTrials(study.id);
    const { snapshot, requeued } = snapshotOf(study, trials, await this.storage.trialKeys(study.id), name);
    return { id: study.id, name: study.name, snapshot, requeued, numberOf: new Map(trials.map((t) => [t.id, t.number])) };
  }

  /**
   * Creates `from`'s copy in this store (one transaction), its results' trial ids made the copy's, then reads it back:
   * a copy that differs from the snapshot in any field is deleted again, and the difference named.
   */
  async importCopy(from: StudyCopySource): Promise<StudyRecord> {
    const attrsFor = (idOf: ReadonlyMap<number, number>) => remapTrialIds(from.snapshot.study.attrs, from.numberOf, idOf);
    const made = await this.storage.importStudy(from.snapshot, attrsFor);
    const trials = await this.storage.listTrials(made.id);
    const differs = copyDiffers(from.snapshot, made, trials, await this.storage.trialKeys(made.id))
      ?? attrsDiffer(made.attrs, attrsFor(new Map(trials.map((t) => [t.number, t.id]))));
    if (differs) {
      await this.storage.deleteStudy(made.id);
      throw new DataError(this.storage.kind, `the copy of study '${from.snapshot.study.name}' did not read back as written (${differs}): it was deleted again, nothing is left of it`);
    }
    return made;
  }

  /**
   * Queues `schedule` (validated at the edge) as an `enqueued` trial, evaluated before any new suggestion: a local
   * run trains it next, an external ask hands it out first. It counts toward budget.trials (409 BUDGET_EXHAUSTED
   * when none is left); its params are the equivalent point of the space when there is one (src/study/enqueue.ts).
   */
  async enqueue(ref: string, schedule: ScheduleSpec, opts: { renormMomentum?: number } = {}): Promise<TrialRecord> {
    const study = await this.resolve(ref);
    const config = configOf(study);
    const trial = enqueuedTrial(schedule, mergeScheduleSpace(config.space), opts.renormMomentum);
    checkEnqueuedSchedule(schedule, studyTotalSteps(config), config.finalValidation.stepsMultipliers);
    return this.asks.run(study.id, async () => {
      const budget = config.budget.trials;
      const [created] = await this.storage.createTrials(study.id, [trial], budget !== undefined ? { budget } : {});
      if (study.state === 'COMPLETE') await this.storage.setStudyState(study.id, 'STOPPED');
      this.emitTrial(created!);
      return created!;
    });
  }

  /** Tells live viewers to reload the study (which fields changed is not worth spelling out) and returns its summary. */
  private async changed(studyId: string): Promise<StudySummary> {
    const study = await this.resolve(studyId);
    this.emit({ type: 'study', studyId, state: study.state, refetch: true });
    return summaryOf(study, (await this.storage.trialTallies(study.id)).get(study.id));
  }

  async setStudyState(studyId: string, state: StudyState): Promise<void> {
    // A run resuming the study (a run or coordinator starts by this) is asked to by whoever started it: a stop
    // request is spent.
    const lift = state === 'RUNNING' ? liftedStopRequest(await this.storage.getStudy(studyId)) : undefined;
    await this.storage.setStudyState(studyId, state, lift);
    this.emit({ type: 'study', studyId, state });
  }

  /** Writes a result of the study (`attrs[key]`); a live view is sent the study's results as they now are. */
  async setStudyAttr(studyId: string, key: string, value: unknown): Promise<void> {
    await this.storage.setStudyAttr(studyId, key, value);
    if (!this.bus.has(studyId)) return;
    const study = await this.storage.getStudy(studyId);
    if (study) this.emit({ type: 'study', studyId, state: study.state, results: studyResults(study) });
  }

  /** Advances and returns the study's search clock; gaps longer than a lease (nobody working) do not count. */
  async tickSearchClock(studyId: string): Promise<number> {
    return this.tick(await this.resolve(studyId));
  }

  private tick(study: StudyRecord): Promise<number> {
    return this.storage.tickSearchClock(study.id, Math.max(60, configOf(study).leaseSeconds));
  }

  // ---- trials: asking ---------------------------------------------------------------------------------------

  /**
   * Up to `count` trials. An external study first hands out trials already queued (baselines, enqueued schedules,
   * trials whose trainer vanished), each under a fresh lease; the rest are new suggestions. A local study's asks
   * queue trials for its runner. Either way the budget holds exactly, whoever asks: the insert checks it in the
   * same transaction, and refuses suggestions computed from a stale snapshot (another server asked meanwhile),
   * which are then recomputed. Fewer than `count` near the end of the budget; StudyStoppedError while the study
   * is stopped. Each trial comes with its schedule's table for a run of `totalSteps` (default: the study's run
   * length; an external study without one must be asked with it).
   *
   * Once an external study's search budget is spent, its asks hand out the evidence runs (race runs on the
   * validation set, then final runs with `evaluateOn: 'test'`); an empty list means others hold the last runs
   * (ask again later); BudgetExhaustedError once everything is done (the study is then COMPLETE).
   */
  async ask(ref: string, count: number, opts: AskOptions = {}): Promise<AskedTrial[]> {
    if (!Number.isInteger(count) || count < 1 || count > MAX_ASK) {
      throw new RequestError('INVALID_ASK', 'count', `must be an integer in [1, ${MAX_ASK}], got ${String(count)}`, 'ask for 1 or more trials');
    }
    const asked = opts.totalSteps;
    if (asked !== undefined && (!Number.isInteger(asked) || asked < 1 || asked > 1e9)) {
      throw new RequestError('INVALID_ASK', 'totalSteps', `must be an integer in [1, 1e9], got ${String(asked)}`, 'send your run length in training steps');
    }
    const id = await this.idOf(ref);
    if (!this.created.has(id)) await this.ensureCreated(id);
    // One ask of a study at a time in this process (the mutex) and across processes where the storage can lock.
    return this.asks.run(id, async () => {
      // The study, its expired leases and the cross-process lock side by side: where nobody else asks, that is one
      // round trip for the three; where others do, the reads are done by the time the lock comes.
      // idOf resolved the study if this service had not seen it: what its config fixes is known.
      const read = Promise.all([this.resolve(id), this.reap(id, this.known.get(id)!.maxRetries, [])]);
      read.catch(() => undefined); // awaited under the lock; if the lock itself fails, that error is the one to raise
      return this.locked(id, async (listed) => {
        const [study, reaped] = await read;
        // Trials just sent back to the queue may postdate the lock's listing: list again to hand them out.
        return this.askLocked(study, count, asked, reaped.length > 0 ? undefined : listed, opts.askId);
      });
    });
  }

  /**
   * The rest of an ask, under the study's lock: its state and run length checked, the time budget ticked, then
   * queued trials claimed, suggestions inserted, evidence runs handed out. `listed`: the trials as the lock read them.
   */
  private async askLocked(study: StudyRecord, count: number, asked: number | undefined, listed: TrialRecord[] | undefined, askId?: string): Promise<AskedTrial[]> {
    const id = study.id;
    const config = configOf(study);
    const external = config.executor === 'external';
    const lease = { owner: askOwner(askId), seconds: config.leaseSeconds };
    // The same ask again (its answer was lost on the way: the server restarted mid-call): the trials it handed out,
    // still out under its leases, rather than new ones held by nobody until their leases run out.
    // One read of the study's trials (the lock's, where the store locks) serves this, the queued claims and the optimizer's first suggestion.
    let trials = listed ?? await this.storage.listTrials(id, { withIntermediate: false });
    const earlier = askId === undefined || !external ? [] : trials.filter((t) => t.state === 'RUNNING' && t.lease?.owner === lease.owner);
    if (earlier.length > 0) {
      const totalSteps = asked ?? studyTotalSteps(config);
      if (totalSteps !== null) return earlier.map((t) => askedTrial(t, totalSteps, config.leaseSeconds));
    }
    if (study.state === 'STOPPED') {
      throw new StudyStoppedError(study.name, config.executor === 'external' ? `${CLI} resume ${study.name}, or POST /api/studies/${study.id}/resume` : `${CLI} run <its config>`);
    }
    const totalSteps = asked ?? studyTotalSteps(config);
    if (totalSteps === null) {
      throw new RequestError('INVALID_ASK', 'totalSteps', `study '${study.name}' has no run length to resolve the schedules' tables for`,
        'send {"totalSteps": <your run length in steps>} with the ask, or create the study with "totalSteps"');
    }
    let spent: BudgetExhaustedError | undefined;
    try {
      await this.checkTimeBudget(study);
    } catch (err) {
      if (!(err instanceof BudgetExhaustedError) || !external) throw err;
      spent = err;
    }
    const handed = external ? await this.claimQueued(id, count, lease, 'search', trials) : [];
    if (handed.length > 0) {
      const claimed = new Map(handed.map((t) => [t.id, t]));
      trials = trials.map((t) => claimed.get(t.id) ?? t);
    }
    let created: TrialRecord[] = [];
    if (handed.length < count && !spent) {
      try {
        created = await this.suggestAndInsert(study, count - handed.length, trials, lease.owner);
      } catch (err) {
        if (!(err instanceof BudgetExhaustedError)) throw err;
        spent = err;
      }
    }
    if (spent && external && handed.length + created.length < count && hasEvidencePhase(config)) {
      const state = await this.advanceEvidence(id);
      handed.push(...(await this.claimQueued(id, count - handed.length - created.length, lease, 'evidence')));
      if (handed.length + created.length === 0 && state === 'done') {
        if (study.state !== 'COMPLETE') await this.setStudyState(id, 'COMPLETE');
        throw spent;
      }
    } else if (spent && handed.length + created.length === 0) {
      // No evidence phase: once no trial is out, an outside trainer's 409 means the study is done, as with one.
      if (external && study.state !== 'COMPLETE' && !trials.some((t) => isOpen(t.state))) await this.setStudyState(id, 'COMPLETE');
      throw spent;
    }
    const out = [...handed, ...created];
    let answers: AskedTrial[];
    try {
      answers = out.map((t) => askedTrial(t, totalSteps, config.leaseSeconds));
    } catch (err) {
      // A schedule with no table at this run length (a formula valid at the study's, not the ask's): the ask is
      // refused, and what it claimed goes back to the queue rather than sit RUNNING under a lease nobody holds.
      for (const t of out) if (t.lease) await this.storage.releaseTrial(id, t.id, t.lease.token).catch(() => false);
      throw err;
    }
    if (study.state === 'CREATED') await this.setStudyState(id, 'RUNNING');
    // A study without a run length of its own keeps its asks' (the latest): the export resolves its table with it.
    if (asked !== undefined && studyTotalSteps(config) === null && study.attrs[ASKED_TOTAL_STEPS] !== asked) await this.storage.setStudyAttr(id, ASKED_TOTAL_STEPS, asked);
    // The trainer tells by number next: remember them, so the tell needs no listing of the study.
    this.numbers.remember(id, out);
    return answers;
  }

  private locked<T>(studyId: string, fn: (listed?: TrialRecord[]) => Promise<T>): Promise<T> {
    return this.storage.lockStudy ? this.storage.lockStudy(studyId, fn) : fn();
  }

  /** `listed`: the study's trials as just read (the first attempt's snapshot); a retry reads them again. */
  private async suggestAndInsert(study: StudyRecord, count: number, listed?: TrialRecord[], owner = EXTERNAL_OWNER): Promise<TrialRecord[]> {
    const config = configOf(study);
    const external = config.executor === 'external';
    for (let attempt = 1; ; attempt++) {
      const trials = attempt === 1 && listed ? listed : await this.storage.listTrials(study.id, { withIntermediate: false });
      const opt = this.optimizerFor(study);
      try {
        await opt.sync(trials);
        const suggestions = await opt.ask(count);
        const fresh: NewTrial[] = suggestions.map((s) => ({
          state: external ? 'RUNNING' : 'WAITING',
          role: 'search',
          params: s.params,
          schedule: this.deps.paramsToSchedule(s.params, config).schedule,
          ...(external ? { lease: { owner, seconds: config.leaseSeconds } } : {}),
        }));
        const budget = config.budget.trials;
        const created = await this.storage.createTrials(study.id, fresh, { snapshot: trials.length, ...(budget !== undefined ? { budget } : {}) });
        created.forEach((t, i) => opt.bind(suggestions[i]!.id, t.id));
        // A partial grant leaves suggestions pending in the optimizer with no trial behind them: rebuild it next time.
        if (created.length < suggestions.length) this.dropOptimizer(study.id);
        for (const t of created) this.emitTrial(t);
        return created;
      } catch (err) {
        // The optimizer may now hold pending points with no stored trial: rebuild it from storage before any retry.
        this.dropOptimizer(study.id);
        if (!(err instanceof StaleSnapshotError) || attempt >= ASK_ATTEMPTS) throw err;
        await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
      }
    }
  }

  private async checkTimeBudget(study: StudyRecord): Promise<void> {
    const minutes = configOf(study).budget.timeMinutes;
    if (minutes === undefined) return;
    const spent = await this.tick(study);
    if (spent >= minutes * 60) throw new BudgetExhaustedError(study.name, `budget.timeMinutes = ${minutes}, ${(spent / 60).toFixed(1)} min spent`);
  }

  /** Claims queued (WAITING) trials in number order: search work (baselines included), or evidence runs (race, final). */
  private async claimQueued(studyId: string, count: number, lease: LeaseRequest, kind: 'search' | 'evidence', listed?: TrialRecord[]): Promise<TrialRecord[]> {
    const out: TrialRecord[] = [];
    // A claim succeeds only on a trial still WAITING in storage, so an earlier read is a safe list of candidates.
    const waiting = listed ? listed.filter((t) => t.state === 'WAITING') : await this.storage.listTrials(studyId, { states: ['WAITING'], withIntermediate: false });
    for (const t of waiting) {
      if (out.length >= count) break;
      if (isEvidenceRole(t.role) !== (kind === 'evidence')) continue;
      const claimed = await this.claimTrial(studyId, t.id, lease);
      if (claimed) out.push(claimed.trial);
    }
    return out;
  }

  // ---- trials: running, reporting, finishing ----------------------------------------------------------------

  async listTrials(studyId: string, opts: { states?: readonly TrialState[]; withIntermediate?: boolean } = {}): Promise<TrialRecord[]> {
    return this.storage.listTrials(studyId, { withIntermediate: false, ...opts });
  }

  async getTrial(studyId: string, trialId: number): Promise<TrialRecord> {
    const t = Number.isInteger(trialId) ? await this.storage.getTrial(studyId, trialId) : undefined;
    if (!t) throw new NotFoundError(`trial ${String(trialId)} of study ${studyId}`);
    return t;
  }

  /** WAITING -> RUNNING under a lease; null if someone else claimed it first. */
  async claimTrial(studyId: string, trialId: number, lease: LeaseRequest): Promise<{ trial: TrialRecord; lease: Lease } | null> {
    const got = await this.storage.claimTrial(studyId, trialId, lease);
    if (!got) return null;
    const trial = await this.getTrial(studyId, trialId);
    this.emitTrial(trial);
    return { trial, lease: got };
  }

  async renewLease(studyId: string, trialId: number, token: number, seconds: number): Promise<Lease> {
    return this.storage.renewLease(studyId, trialId, token, seconds);
  }

  /**
   * A clean hand-back (Ctrl-C, SIGTERM): the trial is queued again, no retry counted. The trial as queued again, or
   * null when `token` no longer held its lease.
   */
  async releaseTrial(studyId: string, trialId: number, token: number): Promise<TrialRecord | null> {
    if (!(await this.storage.releaseTrial(studyId, trialId, token))) return null;
    const trial = await this.getTrial(studyId, trialId);
    this.emitTrial(trial);
    return trial;
  }

  /**
   * An outside trainer's sign of life for a trial it trains without reporting for a while (a long epoch): its lease
   * runs for the study's `leaseSeconds` from now. 409 LEASE_LOST unless `token` still holds the lease.
   */
  async heartbeat(ref: string, trial: TrialRef, token: number): Promise<GrantedLease> {
    const study = await this.resolve(ref);
    const seconds = configOf(study).leaseSeconds;
    return { ...(await this.renewLease(study.id, await this.trialIdOf(study.id, trial), token, seconds)), seconds };
  }

  /**
   * An outside trainer hands back a trial it cannot finish (interrupted, preempted): queued again at once for the next
   * ask, its reports dropped, no retry counted. Refused unless `token` still holds the trial's lease: 409 LEASE_LOST
   * (it expired, went to someone else, or was handed back already), CONFLICT once it is finished.
   */
  async release(ref: string, trial: TrialRef, token: number): Promise<TrialRecord> {
    const study = await this.resolve(ref);
    const trialId = await this.trialIdOf(study.id, trial);
    const released = await this.releaseTrial(study.id, trialId, token);
    if (released) return released;
    const now = await this.getTrial(study.id, trialId);
    checkReporter(now.number, now.state, now.claims ?? null, token, now.failureReason);
    // The lease checks out on this second read: another call took the trial and gave it back in between.
    throw new LeaseLostError(now.number, 'it changed hands while being handed back');
  }

  /** Optuna's fail_stale_trials: expired leases (and those of owners known dead) go back to the queue, or FAIL after maxRetries. */
  async reapExpired(studyId: string, deadOwners: string[] = []): Promise<TrialRecord[]> {
    const study = await this.resolve(studyId);
    return this.reap(study.id, configOf(study).maxRetries, deadOwners);
  }

  private async reap(studyId: string, maxRetries: number, deadOwners: string[]): Promise<TrialRecord[]> {
    const reaped = await this.storage.reapExpiredLeases(studyId, { maxRetries, deadOwners });
    for (const t of reaped) this.emitTrial(t);
    return reaped;
  }

  /**
   * Stores an intermediate value (renewing the trial's lease; with `token`, a zombie's report is refused with
   * 409 LEASE_LOST) and answers whether the pruner wants the trial stopped. Costs one trial's read and one
   * indexed peer query, however large the study.
   */
  async report(ref: string, trial: TrialRef, step: number, value: number, opts: { metrics?: Record<string, unknown>; token?: number } = {}): Promise<ReportAnswer> {
    const study = await this.resolve(ref);
    const config = configOf(study);
    checkValue(config.objective, value, 'INVALID_REPORT');
    const trialId = await this.trialIdOf(study.id, trial);
    const point: IntermediateValue = opts.metrics ? { step, value, metrics: opts.metrics } : { step, value };
    const repeated = await this.storage.addIntermediate(study.id, trialId, point, { ...(opts.token !== undefined ? { token: opts.token } : {}), renewSeconds: config.leaseSeconds });
    const stored = await this.getTrial(study.id, trialId);
    if (!repeated) this.emit({ type: 'report', studyId: study.id, trialId, number: stored.number, point });
    // A retry (the same value again) is what the rule is for; a different value is a trainer counting steps wrong.
    const ignored = repeated && !Object.is(repeated.kept, value)
      ? `trial #${stored.number} already has ${repeated.kept} at step ${step}: this report's ${value} is ignored (fix: report each step once, with a step counter that grows; resending the same report is harmless)`
      : undefined;
    const answer = (prune: boolean): ReportAnswer => (ignored ? { prune, ignored } : { prune });
    if (stored.pruneRequested) return answer(true);
    // Baselines and final-validation reruns always run to the end: they are what the study is measured against.
    if (!isPrunable(stored.role)) return answer(false);
    const prune = await this.prunerFor(study).shouldPrune(stored, (q) => this.storage.peerValues(study.id, { ...q, exceptTrialId: trialId }));
    if (prune) {
      await this.storage.requestPrune(study.id, trialId);
      this.emitTrial(await this.getTrial(study.id, trialId));
    }
    return answer(prune);
  }

  /**
   * An outside trainer's result: a value (PRUNED if the pruner had asked it to stop) or a failure. A value outside
   * the objective's bounds is refused (400 INVALID_TELL): an accuracy of 1.5 would take over the study.
   */
  async tell(ref: string, trial: TrialRef, outcome: { value: number } | { failed: string }, opts: { token?: number; metrics?: Record<string, unknown> } = {}): Promise<TrialRecord> {
    const cached = this.known.get(ref);
    const study = cached ? undefined : await this.resolve(ref);
    const studyId = study?.id ?? ref;
    let result: FinishResult;
    if ('failed' in outcome) {
      if (typeof outcome.failed !== 'string' || !outcome.failed) throw new RequestError('INVALID_TELL', 'failed', 'must be a non-empty reason', 'say why the trial failed');
      result = { state: 'FAIL', failureReason: outcome.failed };
    } else {
      checkValue(cached?.objective ?? configOf(study!).objective, outcome.value, 'INVALID_TELL');
      result = { state: 'COMPLETE', value: outcome.value };
    }
    if (opts.metrics) result.metrics = opts.metrics;
    try {
      return await this.finishTrial(studyId, await this.trialIdOf(studyId, trial), result, opts.token);
    } catch (err) {
      // Told without a read: a study deleted since is named as a fresh lookup names it.
      if (cached && err instanceof NotFoundError) await this.resolve(ref);
      throw err;
    }
  }

  /** A storage id as is; a `{number}` looked up (NoSuchTrialError naming the study and its numbers when it has no such trial). */
  private async trialIdOf(studyId: string, ref: TrialRef): Promise<number> {
    if (typeof ref === 'number') return ref;
    const n = ref.number;
    const id = await this.numbers.idOf(studyId, n, () => this.storage.trialIdByNumber(studyId, n));
    if (id !== undefined) return id;
    // Only a wrong number lists the study: the error names the numbers it has.
    this.numbers.remember(studyId, await this.storage.listTrials(studyId, { withIntermediate: false }));
    throw new NoSuchTrialError((await this.resolve(studyId)).name, n, this.numbers.span(studyId));
  }

  /**
   * Records how a trial ended; with `token`, refused (409 LEASE_LOST) unless the caller still holds the lease. A
   * final run's result updates the final-validation report at once (provisional until every run is in); an outside
   * trainer's last evidence run completes the study.
   */
  async finishTrial(studyId: string, trialId: number, result: FinishResult, token?: number): Promise<TrialRecord> {
    const trial = await this.storage.finishTrial(studyId, trialId, result, { honourPrune: true, ...(token !== undefined ? { token } : {}) });
    this.emitTrial(trial);
    const kind = roleKind(trial.role);
    if (kind === 'final') await this.summarizeFinalValidation(studyId);
    // An outside trainer may tell its last evidence run and never ask again: move the phase along (and end it) here.
    if (isEvidenceRole(trial.role) && configOf(await this.resolve(studyId)).executor === 'external' && (await this.advanceEvidence(studyId)) === 'done') {
      await this.setStudyState(studyId, 'COMPLETE');
    }
    return trial;
  }

  // ---- baselines and final validation --------------------------------------------------------------------

  /** Queues the two baselines if they are not there yet (keyed: never twice, whoever calls), unless the study opted out. */
  async ensureBaselines(studyId: string): Promise<void> {
    await this.queueBaselines(await this.resolve(studyId));
  }

  private async queueBaselines(study: StudyRecord): Promise<void> {
    if (!configOf(study).baselines) return;
    const created = await this.storage.createTrials(study.id, baselineTrials(mergeScheduleSpace(configOf(study).space)));
    for (const t of created) this.emitTrial(t);
  }

  /**
   * Moves the evidence phase along once the search is over: queues the race among the top tuned trials, the
   * baselines' final runs, and once the race is decided the winner's final runs (all keyed, so any number of
   * runners, coordinators and asks may call this). Returns 'search' while search trials are still out, 'waiting'
   * while evidence runs are queued or running, 'done' when every one has finished (the report is then final).
   */
  async advanceEvidence(studyId: string): Promise<EvidenceState> {
    const study = await this.resolve(studyId);
    const config = configOf(study);
    if (!hasEvidencePhase(config)) return 'done';
    return this.asks.run(`evidence:${study.id}`, async () => {
      const stored = await this.resolve(study.id);
      const trials = await this.storage.listTrials(study.id, { withIntermediate: false });
      let plan = evidencePlan(trials, config, pickerFor(config, study.direction));
      if (plan.searchOpen) return 'search';
      const chosen = await this.unracedPick(stored, trials);
      if (chosen) plan = evidencePlan(trials, config, chosen);
      const created = await this.storage.createTrials(study.id, plan.wanted);
      for (const t of created) this.emitTrial(t);
      if (plan.pick.ready) {
        const source = pickRecord(plan.pick.pick, searchedCount(trials));
        if (JSON.stringify(stored.attrs.finalValidationSource) !== JSON.stringify(source)) await this.storage.setStudyAttr(study.id, 'finalValidationSource', source);
      }
      const open = openEvidenceRuns([...trials, ...created]).length;
      if (created.length > 0 && config.finalValidation.seeds > 0) await this.summarizeFinalValidation(study.id);
      return created.length === 0 && open === 0 && plan.pick.ready ? 'done' : 'waiting';
    });
  }

  /**
   * Without a race (`race.candidates` 1 or no race seeds), once the search is over: the pick already recorded, else
   * the optimizer's recommendation among the search trials when it comes from a model (a posterior mean with an sd),
   * so the final runs go to the tuned schedule the model believes best, not the luckiest single value. Undefined: the
   * race picker decides (racing, or no model: the best search value). The model is one built for this from the
   * stored trials, not the study's cached optimizer: an outside trainer's ask calls this holding the study's ask
   * lock, and a rebuilt model is what any other process would see. It runs once: the pick is then recorded.
   */
  private async unracedPick(study: StudyRecord, trials: TrialRecord[]): Promise<FinalPicker | undefined> {
    if (pickerFor(configOf(study), study.direction).name === 'race') return undefined;
    const searchTrial = (id: unknown) => trials.find((t) => t.id === id && t.state === 'COMPLETE' && roleKind(t.role) === 'search');
    const recorded = study.attrs.finalValidationSource as PickRecord | undefined;
    // A pick made before the study was extended (fewer search trials then) is made again from them all.
    if (recorded && searchedWhenPicked(recorded, trials) === searchedCount(trials)) {
      const t = searchTrial(recorded.best);
      return t ? chosenPicker(t, recorded.pickedBy ?? 'recorded', recorded.estimate ?? null, recorded.runs ?? 1) : undefined;
    }
    const opt = new StudyOptimizer(this.deps.createOptimizer(configOf(study)));
    const rec = await opt.sync(trials).then(() => recommendationFrom(opt, trials, true)).catch(() => null).finally(() => opt.close());
    const t = rec?.sd != null ? searchTrial(rec.trialId) : undefined;
    if (!t || !rec) return undefined;
    const by = `the optimizer's recommendation, no race: the best posterior mean among the tuned trials (${rec.mean.toFixed(4)} ± ${rec.sd!.toFixed(4)}; measured ${t.value!.toFixed(4)})`;
    return chosenPicker(t, by, rec.mean, configOf(study).seedsPerTrial);
  }

  /** Stores the final-validation report (paired arms, comparisons and verdicts) from the final runs so far. */
  async summarizeFinalValidation(studyId: string): Promise<void> {
    const { id } = await this.resolve(studyId);
    await this.asks.run(`final:${id}`, async () => {
      const study = await this.resolve(id);
      const report = studyFinalReport(configOf(study), study.attrs.finalValidationSource, await this.storage.listTrials(id, { withIntermediate: false }));
      if (report) await this.setStudyAttr(id, 'finalValidation', report);
    });
  }

  // ---- results ------------------------------------------------------------------------------------------

  async bestSchedule(ref: string): Promise<ExportedSchedule> {
    const study = await this.resolve(ref);
    // The exporter owns the rules (which trial wins, what to do before any has finished); the model's
    // recommendation is one of its inputs, and a model that cannot answer (too little data) is no error.
    const { trials, model } = await this.asks.run(study.id, async () => {
      const listed = await this.storage.listTrials(study.id, { withIntermediate: false });
      return { trials: listed, model: await this.synced(study, listed).then((opt) => recommendationFrom(opt, listed, true)).catch(() => null) };
    });
    return this.deps.buildExport(study, trials, model);
  }

  /** The study's optimizer, brought up to date with `trials` (call under `asks.run`, like an ask). */
  private async synced(study: StudyRecord, trials: TrialRecord[]): Promise<StudyOptimizer> {
    const opt = this.optimizerFor(study);
    await opt.sync(trials);
    return opt;
  }

  async gpView(ref: string): Promise<GpView> {
    const study = await this.resolve(ref);
    return this.asks.run(study.id, async () => {
      const trials = await this.storage.listTrials(study.id, { withIntermediate: false });
      // Centred on the best trial that is a point of the space (an enqueued schedule outside it carries only its momentum).
      const names = Object.keys(mergeScheduleSpace(configOf(study).space));
      const best = bestTrial(trials.filter((t) => names.every((n) => n in t.params)), study.direction);
      if (!best) return { available: false, reason: 'no COMPLETE trial with tuned parameters yet' };
      const slices = await (await this.synced(study, trials)).slices(best.params, 60);
      if (!slices) return { available: false, reason: `the ${configOf(study).optimizer.type} optimizer has no model to show` };
      return { available: true, center: best.params, slices };
    });
  }

  /**
   * Which schedule parameters matter: the optimizer's importance shares (Sobol indices of the GP's posterior mean),
   * computed off the event loop like its asks; status 'flat' with the reason when the model sees no variation.
   */
  async importance(ref: string): Promise<ImportanceView> {
    const study = await this.resolve(ref);
    return this.asks.run(study.id, async () => {
      const trials = await this.storage.listTrials(study.id, { withIntermediate: false });
      const imp = await (await this.synced(study, trials)).importance();
      const method = 'total-order Sobol indices of the GP posterior mean';
      if (!imp) return { available: false, status: 'too-few-trials', reason: 'too few finished trials with tuned parameters for a model yet' };
      if (imp.status === 'flat') return { available: false, status: 'flat', reason: imp.reason, method, observations: imp.observations };
      const ranked = Object.entries(imp.shares).sort((a, b) => b[1] - a[1]);
      return { available: true, status: 'available', importance: Object.fromEntries(ranked), tentative: imp.tentative, method, observations: imp.observations };
    });
  }

  /**
   * The optimizer's recommendation: the observed point it believes best by its posterior mean (not the single
   * best noisy value), with the prediction and the value measured there, and the trial that measured it.
   */
  async recommendation(ref: string): Promise<RecommendationView | null> {
    const study = await this.resolve(ref);
    return this.asks.run(study.id, async () => {
      const trials = await this.storage.listTrials(study.id, { withIntermediate: false });
      return recommendationFrom(await this.synced(study, trials), trials);
    });
  }

  // ---- live events ----------------------------------------------------------------------------------------

  /**
   * Also sees other processes' changes to the same database (see ServiceOptions.watchIntervalMs), told as this
   * process tells its own (./service/foreign_events.ts), or as a `study` event with `refetch`.
   */
  async subscribe(ref: string, listener: (event: StudyEvent) => void): Promise<() => void> {
    const study = await this.resolve(ref);
    const off = this.bus.subscribe(study.id, listener);
    const unwatch = await this.watcher.watch(study.id);
    return () => {
      off();
      unwatch();
    };
  }

  /** Drops cached optimizers and pruners: the next ask rebuilds from storage (as after a restart). */
  forget(studyId: string): void {
    this.dropOptimizer(studyId);
    this.pruners.delete(studyId);
  }

  /** Stops watching for other processes' changes and releases the optimizers' threads (the storage is closed by whoever opened it). */
  close(): void {
    this.watcher.stop();
    for (const id of [...this.optimizers.keys()]) this.dropOptimizer(id);
  }

  // ---- internals --------------------------------------------------------------------------------------------

  private dropOptimizer(studyId: string): void {
    this.optimizers.get(studyId)?.close();
    this.optimizers.delete(studyId);
  }

  private optimizerFor(study: StudyRecord): StudyOptimizer {
    let opt = this.optimizers.get(study.id);
    if (!opt) {
      // The study seed as is: the optimizers draw from (seed, history), so a rebuilt one continues as the cached one
      // would, up to the GP's warm start (see BaseOptimizer.suggest).
      opt = new StudyOptimizer(this.deps.createOptimizer(configOf(study)));
      this.optimizers.set(study.id, opt);
    }
    return opt;
  }

  private prunerFor(study: StudyRecord): Pruner {
    let p = this.pruners.get(study.id);
    if (!p) this.pruners.set(study.id, (p = createPruner(configOf(study).pruner, study.direction)));
    return p;
  }

  private emitTrial(trial: TrialRecord): void {
    this.emit({ type: 'trial', studyId: trial.studyId, trial: trialSummary(trial) });
  }

  private emit(event: StudyEvent): void {
    if (!this.bus.has(event.studyId)) return;
    if (this.foreign.own(event)) this.bus.emit(event);
  }
}

/** Final runs are scored on the test set, and may train longer than the study's own run length (the table covers that length). */
function askedTrial(t: TrialRecord, totalSteps: number, leaseSeconds: number): AskedTrial {
  const m = stepsMultiplierOf(t.role);
  const momentum = t.params.renormMomentum;
  return {
    id: t.id, number: t.number, role: t.role, params: t.params, schedule: t.schedule,
    renormMomentum: typeof momentum === 'number' ? momentum : DEFAULT_RENORM_MOMENTUM,
    totalSteps: totalSteps * m, table: scheduleTable(t.schedule, totalSteps * m), lease: t.lease ? { ...t.lease, seconds: leaseSeconds } : null, seed: t.seed,
    evaluateOn: roleKind(t.role) === 'final' ? 'test' : 'validation', stepsMultiplier: m, steps: totalSteps * m,
  };
}

/** A reported or told value must be a finite number inside the objective's bounds (the study's, else the known metric's). */
function checkValue(objective: StudyConfig['objective'], value: number, code: 'INVALID_REPORT' | 'INVALID_TELL'): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new RequestError(code, 'value', `must be a finite number, got ${String(value)}`, code === 'INVALID_TELL' ? 'tell {"failed": "<reason>"} for a failed trial' : 'send the objective metric at this step');
  }
  const [lo, hi] = objectiveBounds(objective);
  if ((lo !== null && value < lo) || (hi !== null && value > hi)) {
    const metric = objective.metric;
    // The hint fits the bounds: an accuracy's [0, 1] is most often broken by a percentage; a loss's floor by a sign;
    // bounds the study was created with can only be honoured.
    const own = Array.isArray(objective.bounds);
    const fix = hi === 1 ? `send ${metric} as a fraction, not a percentage${own ? '' : ', or create the study with objective.bounds'}`
      : own ? `send ${metric} inside the bounds this study was created with` : `send ${metric} itself, or create the study with objective.bounds`;
    throw new RequestError(code, 'value', `${value} is outside the bounds of ${metric}, [${lo ?? '-inf'}, ${hi ?? 'inf'}]`, fix);
  }
}

/**
 * The optimizer's pick among `trials` (which it was synced with), with the trial that measured it. `tunedOnly`: among
 * the search trials alone, for what the tuned arm retrains and exports; the model may believe a baseline best, and
 * without this the tuned pick fell back to the single best value (the winner's curse) whenever it did.
 */
async function recommendationFrom(opt: StudyOptimizer, trials: TrialRecord[], tunedOnly = false): Promise<RecommendationView | null> {
  const candidates = trials.filter((t) => t.state === 'COMPLETE' && (!tunedOnly || roleKind(t.role) === 'search'));
  const r = await opt.recommend(tunedOnly ? candidates.map((t) => t.params) : undefined);
  if (!r) return null;
  const key = JSON.stringify(r.params);
  // Trials at one point (an export enqueued again) share its prediction: name the one whose measurement the optimizer
  // gave, and always show the named trial's own measurement beside the prediction.
  const same = candidates.filter((t) => JSON.stringify(t.params) === key);
  const trial = same.find((t) => t.value === r.observed) ?? same[0];
  return { params: r.params, mean: r.mean, sd: r.sd, observed: trial?.value ?? r.observed ?? null, trialNumber: trial?.number ?? null, trialId: trial?.id ?? null };
}
