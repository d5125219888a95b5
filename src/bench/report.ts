// Report latency against study size: one `report` (store a point, renew the lease, one median-pruner decision) in a small and a large study, side by side.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { validateStudyConfig } from '../study/config.js';
import { createStudyService } from '../study/service/defaults.js';
import type { StudyService } from '../study/service.js';
import { SqliteStorage } from '../study/storage/index.js';
import { quantile } from './distributed/cluster.js';

export interface ReportLatency {
  trials: number;
  median: number;
  p90: number;
}


/** An external study with `n` finished trials of `reports` points each (the median pruner has n peers to consult). */
async function studyOf(service: StudyService, name: string, n: number, reports: number): Promise<string> {
  const config = validateStudyConfig({
    name, executor: 'external', scenario: { steps: 1000 }, budget: { trials: 100_000 }, optimizer: { type: 'random' },
    pruner: { type: 'median', minTrials: 3 }, finalValidation: { seeds: 0 },
  });
  const { id } = await service.createStudy(config);
  for (let done = 0; done < n; done += 50) {
    for (const t of await service.ask(id, Math.min(50, n - done))) {
      for (let s = 1; s <= reports; s++) await service.report(id, t.id, s * 10, 0.5 + 0.4 * Math.random() * (s / reports));
      await service.tell(id, t.id, { value: 0.5 + 0.4 * Math.random() });
    }
  }
  return id;
}

/**
 * Times `rounds` reports of a fresh trial in a study of `small` and one of `large` finished trials (SQLite file),
 * alternating between the two so machine load hits both alike. The ratio large/small near 1 is the claim:
 * a report reads one trial and one indexed peer query, never the whole study.
 */
export async function benchReport(o: { small: number; large: number; reports: number; rounds: number; log: (line: string) => void }): Promise<{ small: ReportLatency; large: ReportLatency; ratio: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'renorm-bench-report-'));
  const storage = new SqliteStorage(join(dir, 'bench.db'));
  const service = createStudyService(storage);
  try {
    o.log(`report latency: building studies of ${o.small} and ${o.large} finished trials x ${o.reports} reports...`);
    const ids = { small: await studyOf(service, 'small', o.small, o.reports), large: await studyOf(service, 'large', o.large, o.reports) };
    const times: Record<'small' | 'large', number[]> = { small: [], large: [] };
    const open: Record<'small' | 'large', { id: number; step: number }> = { small: { id: 0, step: 0 }, large: { id: 0, step: 0 } };
    for (const k of ['small', 'large'] as const) open[k] = { id: (await service.ask(ids[k], 1))[0]!.id, step: 0 };
    for (let r = 0; r < o.rounds; r++) {
      for (const k of (r % 2 ? ['large', 'small'] : ['small', 'large']) as ('small' | 'large')[]) {
        const t = open[k];
        t.step += 10;
        const t0 = performance.now();
        await service.report(ids[k], t.id, t.step, 0.9, { metrics: { loss: 0.3 } });
        times[k].push(performance.now() - t0);
      }
    }
    const stat = (k: 'small' | 'large', trials: number): ReportLatency => ({ trials, median: quantile(times[k], 0.5), p90: quantile(times[k], 0.9) });
    const res = { small: stat('small', o.small), large: stat('large', o.large), ratio: quantile(times.large, 0.5) / quantile(times.small, 0.5) };
    o.log(`report: ${res.small.trials} trials median ${res.small.median.toFixed(2)} ms (p90 ${res.small.p90.toFixed(2)}), ${res.large.trials} trials median ${res.large.median.toFixed(2)} ms (p90 ${res.large.p90.toFixed(2)}); large / small = ${res.ratio.toFixed(2)}x`);
    return res;
  } finally {
    service.close();
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
