// Runs one stored trial on the executor: seeds, progress -> report -> prune, and the outcome -> finished record.
import type { Executor, TrialProgress, TrialResult } from '../executor/types.js';
import type { StudyService } from '../service.js';
import { configOf } from '../service.js';
import type { StudyRecord, TrialRecord } from '../types.js';

export interface ProgressEvent {
  type: 'progress';
  studyId: string;
  trialId: number;
  label: string | null;
  seedIndex: number;
  seeds: number;
  progress: TrialProgress;
}

/** Seed of the j-th repeat of a trial (j = 0 is the trial's own seed). */
export function repeatSeed(seed: number, j: number): number {
  return (seed + j * 100_003) % 2_147_483_647;
}

/**
 * What a final run is scored on: test accuracy, whatever the search objective. It is the only test-set metric
 * the trainer reports (its `loss` is training loss), and final runs never compete with search trials.
 */
export const FINAL_METRIC = 'testAccuracy';

/**
 * Runs `trial` (already RUNNING in storage) to an end and records it. Returns 'cancelled' when the signal
 * stopped it: the record is left RUNNING for the caller to requeue. With seedsPerTrial > 1 the seeds run one
 * after another; only the first seed's curve is reported (so the pruner compares like with like), and the
 * trial's value is the mean over seeds.
 */
export async function runTrial(
  service: StudyService,
  executor: Executor,
  study: StudyRecord,
  trial: TrialRecord,
  opts: { signal?: AbortSignal; onProgress?: (e: ProgressEvent) => void },
): Promise<'finished' | 'cancelled'> {
  const config = configOf(study);
  const isFinal = (trial.label ?? '').startsWith('final:');
  const metric = isFinal ? FINAL_METRIC : config.objective.metric;
  const seeds = isFinal ? 1 : config.seedsPerTrial;
  const momentum = trial.params.renormMomentum;
  const values: number[] = [];
  const perSeed: Record<string, unknown>[] = [];
  let pruned = false;

  for (let j = 0; j < seeds; j++) {
    const run = executor.start(
      {
        trialId: trial.id,
        scenario: config.scenario as unknown as Record<string, unknown>,
        schedule: trial.schedule,
        ...(typeof momentum === 'number' ? { renormMomentum: momentum } : {}),
        seed: repeatSeed(trial.seed, j),
        ...(config.backend ? { backend: config.backend } : {}),
        evaluateOn: isFinal ? 'test' : 'validation',
      },
      {
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(config.trialTimeoutSeconds ? { timeoutMs: config.trialTimeoutSeconds * 1000 } : {}),
        onProgress: (p) => {
          opts.onProgress?.({ type: 'progress', studyId: study.id, trialId: trial.id, label: trial.label, seedIndex: j, seeds, progress: p });
          if (j !== 0 || pruned) return;
          const v = p[config.objective.metric];
          if (typeof v !== 'number' || !Number.isFinite(v)) return;
          try {
            if (service.report(study.id, trial.id, p.step, v, progressMetrics(p)).prune) {
              pruned = true;
              run.stop();
            }
          } catch {
            // Someone finished this trial meanwhile (e.g. a tell over the API): its outcome will conflict too.
          }
        },
      },
    );
    const out = await run.outcome;
    if (out.kind === 'cancelled') return 'cancelled';
    if (out.kind === 'failed') {
      finish(service, study, trial, { state: 'FAIL', failureReason: seeds > 1 ? `seed ${j + 1}/${seeds}: ${out.reason}` : out.reason, metrics: out.result ? finalMetrics(out.result) : null });
      return 'finished';
    }
    if (out.kind === 'stopped') {
      const curve = service.storage.getTrial(study.id, trial.id)?.intermediate ?? [];
      finish(service, study, trial, { state: 'PRUNED', value: curve.length ? curve[curve.length - 1]!.value : null, metrics: finalMetrics(out.result) });
      return 'finished';
    }
    const v = out.result[metric];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      finish(service, study, trial, { state: 'FAIL', failureReason: `the trainer returned ${metric} = ${String(v)}`, metrics: finalMetrics(out.result) });
      return 'finished';
    }
    values.push(v);
    perSeed.push(finalMetrics(out.result));
  }
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  finish(service, study, trial, { state: 'COMPLETE', value: mean, metrics: seeds > 1 ? { ...perSeed[0], seedValues: values, seeds: perSeed } : perSeed[0]! });
  return 'finished';
}

function finish(service: StudyService, study: StudyRecord, trial: TrialRecord, result: Parameters<StudyService['finishTrial']>[2]): void {
  try {
    service.finishTrial(study.id, trial.id, result);
  } catch (err) {
    // Already finished by someone else (an API tell): storage keeps the first result, which is what we want.
    if ((err as { code?: string }).code !== 'CONFLICT') throw err;
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
