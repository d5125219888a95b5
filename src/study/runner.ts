// Runs a local study end to end: baselines, optimizer-driven search within budget, final validation; resumable.
import { ConfigError, ConflictError } from '../errors.js';
import type { StudyEvent } from './api_types.js';
import type { StudyConfig } from './config.js';
import { validateStudyConfig } from './config.js';
import type { Executor } from './executor/types.js';
import { PiscinaExecutor } from './executor/piscina.js';
import { type StudyService, configOf } from './service.js';
import { createStudyService, studySpace } from './service/defaults.js';
import { bestTrial, isFinalRun } from './service/views.js';
import { baselineTrials, finalSeed, type SpaceLike } from './runner/baselines.js';
import { finalScore } from './runner/stats.js';
import { runTrial, type ProgressEvent } from './runner/trial_run.js';
import type { Storage, StudyRecord, TrialRecord } from './types.js';

/** BatchRenormalization's default renormMomentum in the engine (src/engine/batch_renorm.ts). */
const ENGINE_DEFAULT_RENORM_MOMENTUM = 0.99;

export type RunnerEvent =
  | StudyEvent
  | ProgressEvent
  | { type: 'phase'; studyId: string; phase: 'search' | 'final' | 'done' | 'stopped'; resumed?: boolean };

export interface RunStudyOptions {
  storage: Storage;
  /** The service to go through (share it with the HTTP server so the dashboard sees live events); default: one over `storage`. */
  service?: StudyService;
  /** Defaults to a piscina pool of `workers` threads. */
  executor?: Executor;
  /** Overrides `config.workers`. */
  workers?: number;
  /** Worker module for the default pool (tests use a fixture trainer). */
  workerFile?: string;
  /** Loads a scenario's dataset once in this thread for the default pool. */
  loadDataset?: (scenario: Record<string, unknown>) => unknown;
  /** The search space (to give baselines their equivalent params); default: the study's merged schedule space. */
  space?: (config: StudyConfig) => SpaceLike | undefined;
  /** The momentum the baselines train with (they pass none, so the engine default, 0.99), for their equivalent params. */
  defaultMomentum?: number;
  onEvent?: (e: RunnerEvent) => void;
  /** Ctrl-C: stop asking, cancel running trials (back to WAITING), leave the study resumable. */
  signal?: AbortSignal;
}

export interface RunStudyResult {
  study: StudyRecord;
  state: 'COMPLETE' | 'STOPPED';
  resumed: boolean;
}

/**
 * `target` is a config (a new study, or the study of that name if it exists: then it resumes) or a stored
 * study id. Resuming requeues RUNNING trials (a crashed run left them), runs WAITING ones first, and lets the
 * optimizer pick up from the stored trials; COMPLETE trials are never touched.
 */
export async function runStudy(target: unknown, opts: RunStudyOptions): Promise<RunStudyResult> {
  const service = opts.service ?? createStudyService(opts.storage);
  const { study, resumed } = openStudy(target, service);
  const config = configOf(study);
  if (config.executor === 'external') {
    throw new ConfigError('executor', `study '${study.name}' is driven by external workers over the REST API`, 'use executor "local" to run it here');
  }
  const unsubscribe = opts.onEvent ? service.subscribe(study.id, opts.onEvent) : () => {};
  const emit = (e: RunnerEvent) => opts.onEvent?.(e);
  const ownExecutor = !opts.executor;
  const executor =
    opts.executor ??
    new PiscinaExecutor({
      workers: opts.workers ?? config.workers,
      ...(opts.workerFile ? { filename: opts.workerFile } : {}),
      ...(config.trialMemoryMb ? { memoryMb: config.trialMemoryMb } : {}),
      ...(opts.loadDataset ? { loadDataset: opts.loadDataset } : {}),
    });
  const signal = opts.signal ?? new AbortController().signal;
  const sid = study.id;
  let closing: Promise<void> | undefined;
  const closeOnce = () => (closing ??= executor.close().catch(() => undefined));

  try {
    service.requeueRunning(sid);
    service.setStudyState(sid, 'RUNNING');
    ensureBaselines(service, study, opts);
    emit({ type: 'phase', studyId: sid, phase: 'search', resumed });

    const claim = (t: TrialRecord) => service.startTrial(sid, t.id);
    const clock = searchClock(service, study);
    await drain(executor, signal, async (free) => {
      const waiting = nextWaiting(service, sid, (t) => !isFinalRun(t));
      if (waiting) return waiting;
      const left = searchBudgetLeft(service, study, clock);
      if (left <= 0) return undefined;
      await service.ask(sid, Math.min(free, left));
      return nextWaiting(service, sid, (t) => !isFinalRun(t));
    }, claim, (t) => runTrial(service, executor, study, t, { signal, onProgress: emit }), () => clock.save());

    if (!signal.aborted && config.finalValidation.seeds > 0) {
      emit({ type: 'phase', studyId: sid, phase: 'final' });
      queueFinalValidation(service, study);
      await drain(executor, signal, async () => nextWaiting(service, sid, isFinalRun), claim, (t) => runTrial(service, executor, study, t, { signal, onProgress: emit }), () => {});
      if (!signal.aborted) service.setStudyAttr(sid, 'finalValidation', summarizeFinal(service.listTrials(sid), service.getStudy(sid)));
    }

    if (signal.aborted) {
      service.requeueRunning(sid);
      service.setStudyState(sid, 'STOPPED');
      emit({ type: 'phase', studyId: sid, phase: 'stopped' });
      return { study: service.getStudy(sid), state: 'STOPPED', resumed };
    }
    service.setStudyState(sid, 'COMPLETE');
    emit({ type: 'phase', studyId: sid, phase: 'done' });
    return { study: service.getStudy(sid), state: 'COMPLETE', resumed };
  } catch (err) {
    // Leave nothing RUNNING behind: the study must stay resumable whatever went wrong. Stop the pool first so
    // no run still in flight finishes a trial after it was put back in the queue.
    if (ownExecutor) await closeOnce();
    try {
      service.requeueRunning(sid);
      service.setStudyState(sid, 'STOPPED');
    } catch {
      // storage itself is gone; the next run's requeue will catch up
    }
    throw err;
  } finally {
    unsubscribe();
    if (ownExecutor) await closeOnce();
  }
}

function openStudy(target: unknown, service: StudyService): { study: StudyRecord; resumed: boolean } {
  if (typeof target === 'string') return { study: service.getStudy(target), resumed: true };
  const config = validateStudyConfig(target);
  const existing = service.storage.findStudyByName(config.name);
  if (!existing) return { study: service.createStudy(config), resumed: false };
  // Same name = continue that study; a changed scenario or objective would mix incomparable trials.
  for (const key of ['scenario', 'objective', 'space'] as const) {
    if (JSON.stringify(existing.config[key]) !== JSON.stringify(config[key])) {
      throw new ConflictError(`study '${config.name}' exists with a different ${key}; rename the study to start a new one, or restore its ${key} to resume it`);
    }
  }
  return { study: existing, resumed: true };
}

function ensureBaselines(service: StudyService, study: StudyRecord, opts: RunStudyOptions): void {
  const trials = service.listTrials(study.id);
  const space = (opts.space ?? studySpace)(configOf(study));
  const missing = baselineTrials(configOf(study).seed, trials.length, space, opts.defaultMomentum ?? ENGINE_DEFAULT_RENORM_MOMENTUM)
    .filter((b) => !trials.some((t) => t.label === b.label));
  if (missing.length) service.createTrials(study.id, missing);
}

function nextWaiting(service: StudyService, studyId: string, accept: (t: TrialRecord) => boolean): TrialRecord | undefined {
  return service.storage.listTrials(studyId, { states: ['WAITING'], withIntermediate: false }).find(accept);
}

/** Search time is accumulated across runs in study attrs, so a resumed study does not get its time budget back. */
function searchClock(service: StudyService, study: StudyRecord) {
  const before = Number(study.attrs.searchSeconds ?? 0);
  const t0 = Date.now();
  const spent = () => before + (Date.now() - t0) / 1000;
  return { spent, save: () => service.setStudyAttr(study.id, 'searchSeconds', spent()) };
}

function searchBudgetLeft(service: StudyService, study: StudyRecord, clock: { spent(): number }): number {
  const { budget } = configOf(study);
  if (budget.timeMinutes !== undefined && clock.spent() >= budget.timeMinutes * 60) return 0;
  if (budget.trials === undefined) return Number.MAX_SAFE_INTEGER;
  return budget.trials - service.listTrials(study.id).filter((t) => !isFinalRun(t)).length;
}

/**
 * Keeps every executor slot busy with `next(freeSlots)` until it has nothing more and all runs ended, or the
 * signal fires (then the runs, which got the same signal, end as cancelled and are awaited).
 */
async function drain(
  executor: Executor,
  signal: AbortSignal,
  next: (free: number) => Promise<TrialRecord | undefined>,
  claim: (t: TrialRecord) => boolean,
  run: (t: TrialRecord) => Promise<unknown>,
  afterEach: () => void,
): Promise<void> {
  const running = new Map<number, Promise<unknown>>();
  const aborted = new Promise<void>((r) => (signal.aborted ? r() : signal.addEventListener('abort', () => r(), { once: true })));
  for (;;) {
    while (!signal.aborted && running.size < executor.slots) {
      const t = await next(executor.slots - running.size);
      if (!t || running.has(t.id)) break;
      const id = t.id;
      // startTrial is the atomic WAITING -> RUNNING claim; another runner on the same DB may have won it.
      if (!claim(t)) continue;
      running.set(id, run(t).finally(() => (running.delete(id), afterEach())));
    }
    if (running.size === 0) return;
    await Promise.race([...running.values(), signal.aborted ? new Promise((r) => setTimeout(r, 50)) : aborted]);
    if (signal.aborted) {
      await Promise.allSettled([...running.values()]);
      return;
    }
  }
}

function queueFinalValidation(service: StudyService, study: StudyRecord): void {
  const trials = service.listTrials(study.id);
  const config = configOf(study);
  const best = bestTrial(trials, study.direction);
  const sources: [string, TrialRecord | undefined][] = [
    // A baseline that failed in the search has nothing to confirm; it is reported without final scores.
    ['batchnorm', trials.find((t) => t.label === 'batchnorm' && t.state === 'COMPLETE')],
    ['paper', trials.find((t) => t.label === 'paper' && t.state === 'COMPLETE')],
    // A baseline that wins the search is not rerun twice: its final:<label> scores stand for final:best.
    ['best', best && best.label === null ? best : undefined],
  ];
  let k = trials.filter(isFinalRun).length;
  for (const [which, src] of sources) {
    if (!src) continue;
    const have = trials.filter((t) => t.label === `final:${which}`).length;
    const fresh = Array.from({ length: Math.max(0, config.finalValidation.seeds - have) }, () => ({
      state: 'WAITING' as const,
      label: `final:${which}`,
      params: src.params,
      schedule: src.schedule,
      seed: finalSeed(config.seed, k++),
    }));
    if (fresh.length) service.createTrials(study.id, fresh);
  }
  service.setStudyAttr(study.id, 'finalValidationSource', { best: best?.id ?? null });
}

/** Means and 95% intervals of the COMPLETE final runs, as stored in attrs.finalValidation. */
export function summarizeFinal(trials: readonly TrialRecord[], study: StudyRecord): Record<string, unknown> {
  const scores = (label: string) => trials.filter((t) => t.label === label && t.state === 'COMPLETE').map((t) => t.value!);
  const out: Record<string, unknown> = {};
  for (const which of ['batchnorm', 'paper', 'best']) {
    const v = scores(`final:${which}`);
    if (v.length) out[which] = finalScore(v);
  }
  const best = bestTrial(trials, study.direction);
  if (best) {
    out.trialId = best.id;
    if (best.label && out[best.label]) out.best = out[best.label];
  }
  return out;
}
