// The study service: the one adapter between the API (REST, runner) and storage + optimizer + pruner.
import { ConfigError, NotFoundError } from '../errors.js';
import type { ExportedSchedule, ScheduleSpec } from '../schedule/types.js';
import type { AskedTrial, GpView, StudyApi, StudyEvent, StudySummary, StudyView } from './api_types.js';
import { type StudyConfig, studyTotalSteps, validateStudyConfig } from './config.js';
import { createPruner, type Pruner } from './pruners/index.js';
import { KeyedMutex } from './service/mutex.js';
import { StudyEventBus } from './service/events.js';
import { grantTrials } from './service/budget.js';
import { ChangeWatcher, DEFAULT_WATCH_INTERVAL_MS } from './service/watch.js';
import { StudyOptimizer, type SuggestingOptimizer } from './service/optimizer_sync.js';
import { bestTrial, studyView, summarize } from './service/views.js';
import type { NewTrial, Params, Storage, StudyRecord, StudyState, TrialRecord } from './types.js';

/** The pieces the service plugs together; the defaults come from the optimizer and export packages. */
export interface ServiceDeps {
  createOptimizer(config: StudyConfig): SuggestingOptimizer;
  paramsToSchedule(params: Params, config: StudyConfig): { schedule: ScheduleSpec; renormMomentum?: number };
  buildExport(study: StudyRecord, trials: TrialRecord[]): ExportedSchedule;
  /** Checks a config's search-space override (throws ConfigError); run before anything is written. */
  validateSpace?(config: StudyConfig): void;
}

export interface ServiceOptions {
  /**
   * How often a subscribed study's storage is checked for changes made by other processes (a `run` writing the
   * database that this `serve` reads), ms. Default 1000; 0 streams only this process's own changes.
   */
  watchIntervalMs?: number;
}

export type FinishResult = { state: 'COMPLETE' | 'PRUNED' | 'FAIL'; value?: number | null; failureReason?: string | null; metrics?: Record<string, unknown> | null };

/** Derives a trial's training seed from the study seed and the trial's number: reproducible, distinct per trial. */
export function trialSeed(studySeed: number, number: number): number {
  return (studySeed * 1_000_003 + number * 7_919 + 104_729) % 2_147_483_647;
}

export class StudyService implements StudyApi {
  private readonly bus = new StudyEventBus();
  private readonly asks = new KeyedMutex();
  private readonly optimizers = new Map<string, StudyOptimizer>();
  private readonly pruners = new Map<string, Pruner>();
  /** Trials a pruner told to stop: an external client's later `tell({value})` records them PRUNED, not COMPLETE. */
  private readonly pruneOrdered = new Set<number>();

  private readonly watcher: ChangeWatcher;

  constructor(readonly storage: Storage, private readonly deps: ServiceDeps, opts: ServiceOptions = {}) {
    this.watcher = new ChangeWatcher(storage, (studyId) => this.emitForeignChange(studyId), opts.watchIntervalMs ?? DEFAULT_WATCH_INTERVAL_MS);
  }

  // ---- StudyApi -------------------------------------------------------------------------------------------

  createStudy(raw: unknown): StudyRecord {
    const config = validateStudyConfig(raw);
    this.deps.validateSpace?.(config);
    const study = this.storage.createStudy({ name: config.name, direction: config.objective.direction, config: config as unknown as Record<string, unknown> });
    this.emit({ type: 'study', studyId: study.id, state: study.state });
    return study;
  }

  listStudies(): StudySummary[] {
    return this.storage.listStudies().map((s) => summarize(s, this.storage.listTrials(s.id, { withIntermediate: false })));
  }

  getStudyView(studyId: string): StudyView {
    const study = this.getStudy(studyId);
    return studyView(study, this.storage.listTrials(studyId), studyTotalSteps(study.config));
  }

  /**
   * Serialized per study: the optimizer sees every earlier suggestion as pending before it suggests again.
   * An external study gets at most what is left of `budget.trials` (possibly fewer than `count`), and a
   * BudgetExhaustedError (409) once nothing is left.
   */
  async ask(studyId: string, count: number): Promise<AskedTrial[]> {
    if (!Number.isInteger(count) || count < 1 || count > 1000) {
      throw new ConfigError('count', `must be an integer in [1, 1000], got ${String(count)}`, 'ask for 1 or more trials');
    }
    this.getStudy(studyId);
    return this.asks.run(studyId, async () => {
      const study = this.getStudy(studyId);
      const config = configOf(study);
      const trials = this.storage.listTrials(studyId, { withIntermediate: false });
      const granted = grantTrials(study.name, config, trials, count);
      const opt = this.optimizerFor(study);
      try {
        await opt.sync(trials);
        const suggestions = await opt.ask(granted);
        const state = config.executor === 'external' ? 'RUNNING' : 'WAITING';
        const fresh: NewTrial[] = suggestions.map((s, i) => ({
          state,
          params: s.params,
          schedule: this.deps.paramsToSchedule(s.params, config).schedule,
          seed: trialSeed(config.seed, trials.length + i),
        }));
        const created = this.storage.createTrials(studyId, fresh);
        created.forEach((t, i) => opt.bind(suggestions[i]!.id, t.id));
        if (study.state === 'CREATED' || study.state === 'STOPPED') this.setStudyState(studyId, 'RUNNING');
        for (const t of created) this.emit({ type: 'trial', studyId, trial: t });
        return created.map((t) => ({ id: t.id, params: t.params, schedule: t.schedule }));
      } catch (err) {
        // The optimizer may now hold pending points with no stored trial: rebuild it from storage next time.
        this.optimizers.delete(studyId);
        throw err;
      }
    });
  }

  report(studyId: string, trialId: number, step: number, value: number, metrics?: Record<string, unknown>): { prune: boolean } {
    const study = this.getStudy(studyId);
    this.getTrial(studyId, trialId);
    this.storage.addIntermediate(studyId, trialId, metrics ? { step, value, metrics } : { step, value });
    const trials = this.storage.listTrials(studyId);
    const trial = trials.find((t) => t.id === trialId)!;
    this.emit({ type: 'trial', studyId, trial });
    // Baselines and final-validation reruns always run to the end: they are what the study is measured against.
    const prune = trial.label === null && this.prunerFor(study).shouldPrune(trial, trials);
    if (prune) this.pruneOrdered.add(trialId);
    return { prune };
  }

  tell(studyId: string, trialId: number, outcome: { value: number } | { failed: string }): TrialRecord {
    this.getStudy(studyId);
    this.getTrial(studyId, trialId);
    if ('failed' in outcome) {
      if (typeof outcome.failed !== 'string' || !outcome.failed) throw new ConfigError('failed', 'must be a non-empty reason', 'say why the trial failed');
      return this.finishTrial(studyId, trialId, { state: 'FAIL', failureReason: outcome.failed });
    }
    if (typeof outcome.value !== 'number' || !Number.isFinite(outcome.value)) {
      throw new ConfigError('value', `must be a finite number, got ${String(outcome.value)}`, 'tell {"failed": "<reason>"} for a failed trial');
    }
    const state = this.pruneOrdered.has(trialId) ? 'PRUNED' : 'COMPLETE';
    return this.finishTrial(studyId, trialId, { state, value: outcome.value });
  }

  bestSchedule(studyId: string): ExportedSchedule {
    const study = this.getStudy(studyId);
    // The exporter owns the rules (which trial wins, what to do before any has finished).
    return this.deps.buildExport(study, this.storage.listTrials(studyId, { withIntermediate: false }));
  }

  async gpView(studyId: string): Promise<GpView> {
    const study = this.getStudy(studyId);
    return this.asks.run(studyId, async () => {
      const trials = this.storage.listTrials(studyId, { withIntermediate: false });
      const best = bestTrial(trials.filter((t) => Object.keys(t.params).length > 0), study.direction);
      if (!best) return { available: false, reason: 'no COMPLETE trial with tuned parameters yet' };
      const opt = this.optimizerFor(study);
      await opt.sync(trials);
      const slices = await opt.slices(best.params, 60);
      if (!slices) return { available: false, reason: `the ${configOf(study).optimizer.type} optimizer has no model to show` };
      return { available: true, center: best.params, slices };
    });
  }

  /** Also sees other processes' changes to the same database, as `study` events (see ServiceOptions.watchIntervalMs). */
  subscribe(studyId: string, listener: (event: StudyEvent) => void): () => void {
    const off = this.bus.subscribe(studyId, listener);
    const unwatch = this.watcher.watch(studyId);
    return () => {
      off();
      unwatch();
    };
  }

  // ---- for the local runner (same events, same rules) -----------------------------------------------------

  subscribeAll(listener: (event: StudyEvent) => void): () => void {
    return this.bus.subscribeAll(listener);
  }

  getStudy(studyId: string): StudyRecord {
    const s = this.storage.getStudy(studyId);
    if (!s) throw new NotFoundError(`study ${studyId}`);
    return s;
  }

  listTrials(studyId: string, withIntermediate = false): TrialRecord[] {
    return this.storage.listTrials(studyId, { withIntermediate });
  }

  createTrials(studyId: string, trials: NewTrial[]): TrialRecord[] {
    const created = this.storage.createTrials(studyId, trials);
    for (const t of created) this.emit({ type: 'trial', studyId, trial: t });
    return created;
  }

  /** WAITING -> RUNNING; false if someone else took it. */
  startTrial(studyId: string, trialId: number): boolean {
    const ok = this.storage.startTrial(studyId, trialId);
    if (ok) this.emitTrial(studyId, trialId);
    return ok;
  }

  finishTrial(studyId: string, trialId: number, result: FinishResult): TrialRecord {
    const trial = this.storage.finishTrial(studyId, trialId, result);
    this.pruneOrdered.delete(trialId);
    this.emit({ type: 'trial', studyId, trial });
    return trial;
  }

  requeueRunning(studyId: string): number {
    const n = this.storage.requeueRunning(studyId);
    // The optimizer's pending set is unchanged by a requeue (still not finished), so the cache stays valid.
    if (n) for (const t of this.storage.listTrials(studyId, { states: ['WAITING'], withIntermediate: false })) this.emit({ type: 'trial', studyId, trial: t });
    return n;
  }

  setStudyState(studyId: string, state: StudyState): void {
    this.storage.setStudyState(studyId, state);
    this.emit({ type: 'study', studyId, state });
  }

  setStudyAttr(studyId: string, key: string, value: unknown): void {
    this.storage.setStudyAttr(studyId, key, value);
    this.emit({ type: 'study', studyId, state: this.getStudy(studyId).state });
  }

  toSchedule(study: StudyRecord, params: Params): { schedule: ScheduleSpec; renormMomentum?: number } {
    return this.deps.paramsToSchedule(params, configOf(study));
  }

  /** Drops cached optimizers and pruners: the next ask rebuilds from storage (as after a restart). */
  forget(studyId: string): void {
    this.optimizers.delete(studyId);
    this.pruners.delete(studyId);
  }

  // ---- internals --------------------------------------------------------------------------------------------

  private getTrial(studyId: string, trialId: number): TrialRecord {
    const t = Number.isInteger(trialId) ? this.storage.getTrial(studyId, trialId) : undefined;
    if (!t) throw new NotFoundError(`trial ${String(trialId)} of study ${studyId}`);
    return t;
  }

  private optimizerFor(study: StudyRecord): StudyOptimizer {
    let opt = this.optimizers.get(study.id);
    if (!opt) {
      // The study seed as is: the optimizers draw from (seed, history), so a rebuilt one continues where the cached one would.
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

  private emitTrial(studyId: string, trialId: number): void {
    const trial = this.storage.getTrial(studyId, trialId);
    if (trial) this.emit({ type: 'trial', studyId, trial });
  }

  private emit(event: StudyEvent): void {
    this.watcher.noteLocal(event.studyId);
    this.bus.emit(event);
  }

  /** Another process changed the study: which trials changed is not known cheaply, so say "refetch" with a study event. */
  private emitForeignChange(studyId: string): void {
    const study = this.storage.getStudy(studyId);
    if (study) this.bus.emit({ type: 'study', studyId, state: study.state });
  }
}

/** Stored configs were validated on the way in; this only restores the type. */
export function configOf(study: StudyRecord): StudyConfig {
  return study.config as unknown as StudyConfig;
}
