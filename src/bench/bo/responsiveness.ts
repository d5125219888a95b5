// How long a trivial HTTP request waits while the optimizer works on a 2,000-trial ask: in-process vs in a worker thread (ThreadedOptimizer).
//
// A local node:http server answers GET /health with "ok"; a client in the same process (../health_probe.ts) sends
// one request every 20 ms on a fixed schedule while asks run, each charged from its due time: an in-process ask that
// freezes the loop cannot hide its own delay.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BayesianOptimizer } from '../../optimizer/bayesian.js';
import { ThreadedOptimizer } from '../../optimizer/threaded.js';
import type { Optimizer } from '../../optimizer/types.js';
import { defaultScheduleSpace } from '../../study/schedule_space.js';
import { scheduleObservations } from './latency.js';
import { quartiles } from './summary.js';
import { INTERVAL_MS, startProbe, summarizeLatencies, type LatencySummary } from '../health_probe.js';

export interface ResponsivenessRow extends LatencySummary {
  host: 'in-process' | 'worker thread';
  observations: number;
  asks: number;
  askSeconds: number[];
}

async function measure(opt: Optimizer, port: number, asks: number): Promise<{ askSeconds: number[]; latencies: number[] }> {
  const probe = startProbe(port, '/health');
  // Let the client settle before the first ask.
  await new Promise((r) => setTimeout(r, 5 * INTERVAL_MS));
  const askSeconds: number[] = [];
  for (let i = 0; i < asks; i++) {
    const t = performance.now();
    const [s] = await opt.ask(1);
    askSeconds.push((performance.now() - t) / 1000);
    await opt.tell(s!.id, 0.8);
    // A server turns the loop between requests; so does this (otherwise back-to-back in-process asks never yield at all).
    await new Promise((r) => setImmediate(r));
  }
  return { askSeconds, latencies: await probe.stop() };
}

export async function responsiveness(n: number, asks: number, log: (l: string) => void): Promise<ResponsivenessRow[]> {
  const server: Server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const rows: ResponsivenessRow[] = [];
  try {
    for (const host of ['in-process', 'worker thread'] as const) {
      const options = { space: defaultScheduleSpace, direction: 'maximize' as const, seed: 1 };
      const opt: Optimizer = host === 'in-process' ? new BayesianOptimizer(options) : new ThreadedOptimizer('gp', options);
      try {
        await scheduleObservations(opt, n);
        const { askSeconds, latencies } = await measure(opt, port, asks);
        const row: ResponsivenessRow = { host, observations: n, asks, askSeconds, ...summarizeLatencies(latencies) };
        rows.push(row);
        const q = quartiles(askSeconds);
        log(`  ${host.padEnd(13)} ${asks} asks at n = ${n} (median ${q.median.toFixed(2)} s): /health p50 ${row.p50Ms.toFixed(1)} ms, p99 ${row.p99Ms.toFixed(1)} ms, max ${row.maxMs.toFixed(0)} ms over ${row.requests} requests`);
      } finally {
        await opt.close();
      }
    }
  } finally {
    await new Promise((r) => server.close(r));
  }
  return rows;
}
