// Service benchmarks: trial throughput of the worker pool (2 workers vs 1) and ask/tell latency over HTTP.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadDataset } from '../data/index.js';
import type { Scenario } from '../train/scenario.js';
import { createServer } from '../server/index.js';
import { loadStudyConfig, localScenario, validateStudyConfig } from '../study/config.js';
import { PiscinaExecutor } from '../study/executor/piscina.js';
import type { TrialJob } from '../study/executor/types.js';
import { createStudyService } from '../study/service/defaults.js';
import { SqliteStorage } from '../study/storage/index.js';

export interface ThroughputOptions {
  config: string;
  trials: number;
  steps: number;
  rounds: number;
  log: (line: string) => void;
}

export interface ThroughputResult {
  perRound: { workers: number; seconds: number; trialsPerMinute: number; coresBusy: number; cpuSecondsPerTrial: number }[][];
  /** Trials per minute with 2 workers / with 1, pooled over rounds. */
  ratio: number;
  /** Median over rounds of each round's own 2-vs-1 ratio (adjacent batches see similar machine load). */
  medianRoundRatio: number;
  /**
   * Median CPU seconds per trial with 2 workers / with 1: about 1 means running two at once adds no work, so
   * on two free cores the throughput ratio is bounded by scheduling, not by the pool. Robust to other load.
   */
  cpuCostRatio: number;
}

/**
 * Runs the same `trials` quick-config trials on a 1-worker and a 2-worker pool, alternating which goes
 * first each round so load drift on a shared machine hits both alike. Workers are warmed up (backend
 * initialised) before timing: a long study pays that once.
 */
export async function benchThroughput(o: ThroughputOptions): Promise<ThroughputResult> {
  const base = localScenario(loadStudyConfig(o.config));
  const scenario = { ...base, steps: o.steps, evalInterval: Math.min(base.evalInterval, o.steps) } as Scenario;
  const dataset = await loadDataset(scenario.dataset);
  const job = (i: number, steps = scenario.steps): TrialJob => ({
    trialId: i,
    scenario: { ...scenario, steps, evalInterval: Math.min(scenario.evalInterval, steps) } as unknown as Record<string, unknown>,
    schedule: { kind: 'paper' },
    seed: 1000 + i,
  });
  const perRound: ThroughputResult['perRound'] = [];
  const totals = new Map<number, { trials: number; seconds: number }>([[1, { trials: 0, seconds: 0 }], [2, { trials: 0, seconds: 0 }]]);
  for (let r = 0; r < o.rounds; r++) {
    const row: ThroughputResult['perRound'][number] = [];
    for (const workers of r % 2 === 0 ? [1, 2] : [2, 1]) {
      const ex = new PiscinaExecutor({ workers, loadDataset: () => dataset });
      try {
        await Promise.all(Array.from({ length: workers }, (_, i) => ex.start(job(-1 - i, 5)).outcome));
        const t0 = performance.now();
        const cpu0 = process.cpuUsage();
        const outs = await Promise.all(Array.from({ length: o.trials }, (_, i) => ex.start(job(i)).outcome));
        const seconds = (performance.now() - t0) / 1000;
        // Process CPU time covers every worker thread: cores busy = CPU seconds / wall seconds. Near 1 and 2 means
        // the machine gave us the cores and any shortfall in the ratio is ours; lower means other load took them.
        const cpu = process.cpuUsage(cpu0);
        const coresBusy = (cpu.user + cpu.system) / 1e6 / seconds;
        const bad = outs.find((x) => x.kind !== 'ok');
        if (bad) throw new Error(`benchmark trial did not finish: ${JSON.stringify(bad)}`);
        const cpuSecondsPerTrial = (cpu.user + cpu.system) / 1e6 / o.trials;
        row.push({ workers, seconds, trialsPerMinute: (60 * o.trials) / seconds, coresBusy, cpuSecondsPerTrial });
        const t = totals.get(workers)!;
        t.trials += o.trials;
        t.seconds += seconds;
        o.log(`round ${r + 1}: ${workers} worker${workers > 1 ? 's' : ' '}  ${o.trials} trials x ${o.steps} steps in ${seconds.toFixed(1)} s = ${((60 * o.trials) / seconds).toFixed(2)} trials/min, ${coresBusy.toFixed(2)} cores busy, ${cpuSecondsPerTrial.toFixed(2)} CPU s/trial`);
      } finally {
        await ex.close();
      }
    }
    perRound.push(row);
  }
  const rate = (w: number) => totals.get(w)!.trials / totals.get(w)!.seconds;
  const roundRatios = perRound.map((row) => row.find((x) => x.workers === 2)!.trialsPerMinute / row.find((x) => x.workers === 1)!.trialsPerMinute);
  const cpuPerTrial = (w: number) => quantile(perRound.map((row) => row.find((x) => x.workers === w)!.cpuSecondsPerTrial), 0.5);
  return { perRound, ratio: rate(2) / rate(1), medianRoundRatio: quantile(roundRatios, 0.5), cpuCostRatio: cpuPerTrial(2) / cpuPerTrial(1) };
}

export interface LatencyResult {
  http: { median: number; p90: number };
  /** Two GET /api/health requests: the floor any two HTTP calls cost on this machine right now. */
  health: { median: number; p90: number };
  inProcess: { median: number; p90: number };
  /** Median HTTP round trip minus median in-process round trip: what the REST layer adds. */
  overheadMedian: number;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

/**
 * ask(1) + tell round trips on an external study with the random optimizer (so no GP fitting is timed),
 * over HTTP to a real server on a SQLite file, interleaved with the same round trip called in-process.
 */
export async function benchAskTell(o: { config: string; rounds: number; log: (line: string) => void }): Promise<LatencyResult> {
  const dir = mkdtempSync(join(tmpdir(), 'renorm-bench-'));
  const storage = new SqliteStorage(join(dir, 'bench.db'));
  const service = createStudyService(storage);
  const base = loadStudyConfig(o.config);
  const mk = async (name: string) =>
    (await service.createStudy(validateStudyConfig({ name, scenario: base.scenario, budget: { trials: 100_000 }, executor: 'external', optimizer: { type: 'random' }, finalValidation: { seeds: 0 } }))).id;
  const httpStudy = await mk('bench-http');
  const localStudy = await mk('bench-local');
  const server = await createServer({ api: service, port: 0, dashboard: false });
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
    return res.json() as Promise<Record<string, unknown>>;
  };
  const viaHttp = async () => {
    const { trials } = (await post(`/api/studies/${httpStudy}/ask`, { count: 1 })) as { trials: { number: number }[] };
    await post(`/api/studies/${httpStudy}/trials/${trials[0]!.number}/tell`, { value: Math.random() });
  };
  const inProcess = async () => {
    const [t] = await service.ask(localStudy, 1);
    await service.tell(localStudy, t!.id, { value: Math.random() });
  };
  const health2 = async () => {
    for (let k = 0; k < 2; k++) {
      const res = await fetch(`${server.url}/api/health`);
      if (!res.ok) throw new Error(`/api/health: HTTP ${res.status}`);
      await res.arrayBuffer();
    }
  };
  const http: number[] = [];
  const local: number[] = [];
  const floor: number[] = [];
  try {
    for (let i = 0; i < 20; i++) (await viaHttp(), await inProcess());
    for (let i = 0; i < o.rounds; i++) {
      let t0 = performance.now();
      await viaHttp();
      http.push(performance.now() - t0);
      t0 = performance.now();
      await inProcess();
      local.push(performance.now() - t0);
      t0 = performance.now();
      await health2();
      floor.push(performance.now() - t0);
    }
  } finally {
    await server.close();
    service.close();
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const res: LatencyResult = {
    http: { median: quantile(http, 0.5), p90: quantile(http, 0.9) },
    inProcess: { median: quantile(local, 0.5), p90: quantile(local, 0.9) },
    health: { median: quantile(floor, 0.5), p90: quantile(floor, 0.9) },
    overheadMedian: quantile(http, 0.5) - quantile(local, 0.5),
  };
  o.log(`ask+tell round trip, ${o.rounds} rounds: HTTP median ${res.http.median.toFixed(2)} ms (p90 ${res.http.p90.toFixed(2)}), in-process median ${res.inProcess.median.toFixed(2)} ms (p90 ${res.inProcess.p90.toFixed(2)}); HTTP adds ${res.overheadMedian.toFixed(2)} ms; two bare GET /api/health: median ${res.health.median.toFixed(2)} ms`);
  return res;
}
