// Measures how long a trivial HTTP request waits on a server that is busy: one GET every INTERVAL_MS on a fixed
// schedule, each charged from its due time, not from when it was finally sent (no coordinated omission): a request
// due while the server's event loop was frozen waits, and so does every one that fell due behind it.
import { request } from 'node:http';

export const INTERVAL_MS = 20;

export interface LatencySummary {
  requests: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function summarizeLatencies(latencies: readonly number[]): LatencySummary {
  const s = [...latencies].sort((a, b) => a - b);
  return { requests: s.length, p50Ms: percentile(s, 0.5), p99Ms: percentile(s, 0.99), maxMs: s[s.length - 1] ?? NaN };
}

function get(port: number, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Starts sending GET `path` to 127.0.0.1:`port`, request k due at start + k * INTERVAL_MS; `stop()` ends the
 * schedule and resolves, once every request due until then has been answered, with each one's wait in ms.
 */
export function startProbe(port: number, path: string): { stop(): Promise<number[]> } {
  const latencies: number[] = [];
  let end = Infinity;
  const t0 = performance.now();
  const client = (async () => {
    for (let k = 0; ; k++) {
      const due = t0 + k * INTERVAL_MS;
      if (due > end) break;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (due > end) break;
      await get(port, path);
      latencies.push(performance.now() - due);
    }
  })();
  return {
    async stop() {
      end = performance.now();
      await client;
      return latencies;
    },
  };
}
