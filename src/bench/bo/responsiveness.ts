// How long a trivial HTTP request waits while the optimizer works on a 2,000-trial ask: in-process vs in a worker thread (ThreadedOptimizer).
//
// A local node:http server answers GET /health with "ok"; a client in the same process sends one request every
// INTERVAL_MS on a fixed schedule while asks run. Latency is measured from the request's scheduled time, not
// from when the blocked event loop finally got round to sending it: otherwise an in-process ask that freezes
// the loop would hide its own delay (coordinated omission).
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BayesianOptimizer } from '../../optimizer/bayesian.js';
import { ThreadedOptimizer } from '../../optimizer/threaded.js';
import type { Optimizer } from '../../optimizer/types.js';
import { defaultScheduleSpace } from '../../study/schedule_space.js';
import { scheduleObservations } from './latency.js';
import { quartiles } from './summary.js';

const INTERVAL_MS = 20;

export interface ResponsivenessRow {
  host: 'in-process' | 'worker thread';
  observations: number;
  asks: number;
  askSeconds: number[];
  requests: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function get(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/health', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    req.on('error', reject);
    req.end();
  });
}

async function measure(opt: Optimizer, port: number, asks: number): Promise<{ askSeconds: number[]; latencies: number[] }> {
  const latencies: number[] = [];
  let end = Infinity;
  const t0 = performance.now();
  // The client: request k is due at t0 + k * INTERVAL_MS, sent then or as soon as the previous one answered.
  // No skipping: requests that fell due while the loop was blocked go out back to back, each charged from its
  // due time, until every request due before the asks finished has been answered.
  const client = (async () => {
    for (let k = 0; ; k++) {
      const due = t0 + k * INTERVAL_MS;
      if (due > end) break;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (due > end) break;
      await get(port);
      latencies.push(performance.now() - due);
    }
  })();
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
  end = performance.now();
  await client;
  return { askSeconds, latencies };
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
        const s = [...latencies].sort((a, b) => a - b);
        const row: ResponsivenessRow = {
          host, observations: n, asks, askSeconds, requests: s.length, p50Ms: percentile(s, 0.5), p99Ms: percentile(s, 0.99), maxMs: s[s.length - 1] ?? NaN,
        };
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
