// What the queue adds per trial over the local pool, on the same real trials of a config's scenario (one slot each, so trials run back to back).
import { loadDataset } from '../../data/index.js';
import { loadStudyConfig, localScenario, validateStudyConfig, type StudyConfig } from '../../study/config.js';
import { PiscinaExecutor } from '../../study/executor/piscina.js';
import { runStudy } from '../../study/runner.js';
import { createStudyService } from '../../study/service/defaults.js';
import { openStorage } from '../../study/storage/index.js';
import type { Scenario } from '../../train/scenario.js';
import { Cluster, durationsMs, gapsMs, mean } from './cluster.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PathStats {
  /** Finish of one trial to the claim of the next, ms, over every run of this path. */
  gapsMs: number[];
  trialMs: number[];
  seconds: number[];
}

export interface OverheadResult {
  local: PathStats;
  queue: PathStats;
  /** Mean gap (queue) minus mean gap (local), ms: what the queue adds per trial. */
  addedMs: number;
  /** addedMs over the mean trial duration (both paths pooled). */
  addedFraction: number;
}

/**
 * The config's study with `trials` trials (baselines included), its optimizer, no pruner (so every trial trains
 * the whole scenario) and no final validation, run `rounds` times per path in A-B-B-A order so load drift on a
 * shared machine hits both alike: locally (runStudy, one pool thread) and over the queue (an in-process
 * coordinator and one `renorm-tune worker` process with one thread). Both load the dataset before the clock starts.
 */
export async function benchOverhead(o: { redis: string; config: string; trials: number; rounds: number; log: (line: string) => void }): Promise<OverheadResult> {
  const base = loadStudyConfig(o.config);
  const study = (name: string): StudyConfig => validateStudyConfig({
    name,
    scenario: base.scenario,
    objective: base.objective,
    budget: { trials: o.trials },
    optimizer: base.optimizer,
    pruner: { type: 'none' },
    finalValidation: { seeds: 0, race: { candidates: 1 } }, // no evidence phase: only the budget's trials are timed
    seed: base.seed,
    workers: 1,
  });
  const stats = { local: { gapsMs: [], trialMs: [], seconds: [] } as PathStats, queue: { gapsMs: [], trialMs: [], seconds: [] } as PathStats };
  const order = Array.from({ length: o.rounds }, (_, i) => (i % 2 === 0 ? ['local', 'queue'] : ['queue', 'local'])).flat() as ('local' | 'queue')[];
  for (const [i, path] of order.entries()) {
    const { seconds, trials } = path === 'local' ? await local(study(`overhead-local-${i}`)) : await queued(o.redis, study(`overhead-queue-${i}`));
    const s = stats[path];
    s.seconds.push(seconds);
    s.gapsMs.push(...gapsMs(trials));
    s.trialMs.push(...durationsMs(trials));
    o.log(`  ${path.padEnd(5)}: ${trials.length} trials in ${seconds.toFixed(1)} s, trial ${mean(durationsMs(trials)).toFixed(0)} ms, gap between trials ${mean(gapsMs(trials)).toFixed(0)} ms`);
  }
  const addedMs = mean(stats.queue.gapsMs) - mean(stats.local.gapsMs);
  return { ...stats, addedMs, addedFraction: addedMs / mean([...stats.local.trialMs, ...stats.queue.trialMs]) };
}

async function local(config: StudyConfig): Promise<{ seconds: number; trials: import('../../study/types.js').TrialRecord[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'renorm-bench-local-'));
  const storage = await openStorage(join(dir, 'bench.db'));
  const service = createStudyService(storage);
  const executor = new PiscinaExecutor({ workers: 1, loadDataset: (s) => loadDataset((s as unknown as Scenario).dataset) });
  try {
    await loadDataset(localScenario(config).dataset);
    const t0 = performance.now();
    const res = await runStudy(config, { service, executor });
    const seconds = (performance.now() - t0) / 1000;
    return { seconds, trials: await service.listTrials(res.study.id) };
  } finally {
    await executor.close();
    service.close();
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function queued(redis: string, config: StudyConfig): Promise<{ seconds: number; trials: import('../../study/types.js').TrialRecord[] }> {
  const cluster = new Cluster(redis);
  try {
    await cluster.startWorkers(1, ['--concurrency', '1', '--isolation', 'thread']);
    return await cluster.coordinate(config);
  } finally {
    await cluster.close();
  }
}
