// Runs one claimed trial on an executor: seeds, progress -> report (under the lease) -> prune, and the outcome -> finished record.
import { BackendError } from '../../errors.js';
import { LeaseLostError } from '../errors.js';
import { TRAINED_BY } from '../../shared/trained_on.js';
import type { Executor, TrialProgress, TrialResult } from '../executor/types.js';
import { localScenario } from '../config.js';
import { FINAL_METRIC, stepsMultiplierOf } from '../final.js';
import { repeatSeed } from '../seeds.js';
import { configOf, type StudyService } from '../service.js';
import type { FinishResult, StudyRecord, TrialRecord, TrialRole } from '../types.js';

export interface ProgressEvent {
  type: 'progress';
  studyId: string;
  trialId: number;
  number: number;
  role: TrialRole;
  seedIndex: number;
  seeds: number;
  progress: TrialProgress;
}

/**
 * How a run ended for the caller: `finished` (recorded), `cancelled` (the signal stopped it; the trial is still
 * RUNNING under the caller's lease, for the caller to release), `lost` (the lease moved on: another worker owns the
 * trial now, so nothing was recorded).
 */
export type RunEnd = 'finished' | 'cancelled' | 'lost';

/**
 * Runs `trial`, which the caller claimed under lease `token`. With seedsPerTrial > 1 the seeds run one after
 * another; only the first seed's curve is reported (so the pruner compares like with like), and the trial's
 * value is the mean over seeds. Every report and the finish carry the token, so a run whose lease was taken
 * over (this worker was presumed dead) can never overwrite the new owner's work. A run that could not start
 * because this machine cannot train (its backend did not initialise) throws BackendError and leaves the trial
 * RUNNING under the lease, for the caller to hand back: the trial is not at fault.
 */
export async function runTrial(
  service: StudyService,
  executor: Executor,
  study: StudyRecord,
  trial: TrialRecord,
  token: number,
  opts: { signal?: AbortSignal; onProgress?: (e: ProgressEvent) => void } = {},
): Promise<RunEnd> {
  const config = configOf(study);
  const isFinal = trial.role.startsWith('final:');
  const metric = isFinal ? FINAL_METRIC : config.objective.metric;
  const seeds = isFinal ? 1 : config.seedsPerTrial;
  const momentum = trial.params.renormMomentum;
  // A final run at m times the run length: the schedule is relative, so it stretches; the time limit stretches too.
  const m = stepsMultiplierOf(trial.role);
  // Evaluations stay as many as at the study's length: they cost time and the curve needs no finer grain.
  const local = localScenario(config);
  const scenario = m === 1 ? local : { ...local, steps: local.steps * m, evalInterval: local.evalInterval * m };
  const values: number[] = [];
  const perSeed: Record<string, unknown>[] = [];
  let pruned = false;
  let lost = false;
  // Reports are stored in order, one at a time; the finish waits for them, so no report can land after it.
  let reports: Promise<void> = Promise.resolve();

  for (let j = 0; j < seeds; j++) {
    const run = executor.start(
      {
        trialId: trial.id,
        scenario: scenario as unknown as Record<string, unknown>,
        schedule: trial.schedule,
        ...(typeof momentum === 'number' ? { renormMomentum: momentum } : {}),
        seed: repeatSeed(trial.seed, j),
        ...(config.backend ? { backend: config.backend } : {}),
        evaluateOn: isFinal ? 'test' : 'validation',
      },
      {
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(config.trialTimeoutSeconds ? { timeoutMs: config.trialTimeoutSeconds * 1000 * m } : {}),
        onProgress: (p) => {
          opts.onProgress?.({ type: 'progress', studyId: study.id, trialId: trial.id, number: trial.number, role: trial.role, seedIndex: j, seeds, progress: p });
          if (j !== 0 || pruned || lost) return;
          const v = p[config.objective.metric];
          if (typeof v !== 'number' || !Number.isFinite(v)) return;
          reports = reports.then(async () => {
            if (pruned || lost) return;
            try {
              if ((await service.report(study.id, trial.id, p.step, v, { metrics: progressMetrics(p), token })).prune) {
                pruned = true;
                run.stop();
              }
            } catch (err) {
              if (err instanceof LeaseLostError) {
                lost = true;
                run.stop();
              }
              // Anything else (a finished trial told over the API) surfaces as a conflict at the finish.
            }
          });
        },
      },
    );
    const out = await run.outcome;
    await reports;
    if (lost) return 'lost';
    if (out.kind === 'cancelled') return 'cancelled';
    if (out.kind === 'failed' && out.unavailable) {
      // Not the trial's doing: it stays RUNNING under the caller's lease, for the caller to hand back.
      throw new BackendError(`this machine cannot train trial #${trial.number} of '${study.name}': ${out.reason.replace(/^trial threw: /, '')}`);
    }
    if (out.kind === 'failed') {
      return finish(service, trial, token, { state: 'FAIL', failureReason: seeds > 1 ? `seed ${j + 1}/${seeds}: ${out.reason}` : out.reason, metrics: out.result ? finalMetrics(out.result) : null });
    }
    if (out.kind === 'stopped') {
      const curve = (await service.getTrial(study.id, trial.id)).intermediate;
      return finish(service, trial, token, { state: 'PRUNED', value: curve.length ? curve[curve.length - 1]!.value : null, metrics: finalMetrics(out.result) });
    }
    const v = out.result[metric];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      return finish(service, trial, token, { state: 'FAIL', failureReason: `the trainer returned ${metric} = ${String(v)}`, metrics: finalMetrics(out.result) });
    }
    values.push(v);
    perSeed.push(finalMetrics(out.result));
  }
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return finish(service, trial, token, { state: 'COMPLETE', value: mean, metrics: seeds > 1 ? { ...perSeed[0], seedValues: values, seeds: perSeed } : perSeed[0]! });
}

async function finish(service: StudyService, trial: TrialRecord, token: number, result: FinishResult): Promise<RunEnd> {
  // Who trained it (`host:pid:worker-xxxxxx`, or a local run's), kept once the lease is gone: which machine to look at.
  const by = trial.lease?.owner;
  try {
    await service.finishTrial(trial.studyId, trial.id, by ? { ...result, metrics: { ...(result.metrics ?? {}), [TRAINED_BY]: by } } : result, token);
    return 'finished';
  } catch (err) {
    if (err instanceof LeaseLostError) return 'lost';
    // Already finished by someone else (an API tell): storage keeps the first result, which is what we want.
    if ((err as { code?: string }).code !== 'CONFLICT') throw err;
    return 'finished';
  }
}

/** The per-step extras stored with an intermediate value (for the dashboard's curves and clip plots). */
function progressMetrics(p: TrialProgress): Record<string, unknown> {
  const { step: _s, totalSteps: _t, ...rest } = p;
  return rest;
}

/** Final metrics minus the curve, which is already stored step by step as intermediate values. */
function finalMetrics(r: TrialResult): Record<string, unknown> {
  const { curve: _c, ...rest } = r;
  return JSON.parse(JSON.stringify(rest, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v))) as Record<string, unknown>;
}
