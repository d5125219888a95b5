// A queue worker's own endpoint (`worker --metrics-port`): GET /metrics in Prometheus's text format (trials by how
// they ended and by the backend and device they trained on, slots and busy slots, the process's series) and GET
// /health for a supervisor's liveness probe. Plain node:http, read-only, nothing of the studies but counts: a worker
// holds no API to protect.
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Registry } from 'prom-client';
import { METRICS_PREFIX, processMetrics } from '../process_metrics.js';
import { PACKAGE_VERSION } from '../version.js';
import { listenOn } from '../server/listen_on.js';
import type { TrainedOn } from '../shared/trained_on.js';

/**
 * How a job this worker took ended, as counted: the trial's recorded state; handed back (a stop); its lease lost to
 * another worker; dropped without training (a stale or duplicate job); or an error (the store failed under it, or
 * this machine cannot train the study).
 */
export type TrialOutcome = 'COMPLETE' | 'PRUNED' | 'FAIL' | 'handed_back' | 'lease_lost' | 'dropped' | 'error';

/** What the queue worker tells its observer. */
export interface WorkerObserver {
  started(owner: string, slots: number): void;
  /** A job began (`+1`) or ended (`-1`) occupying a slot. */
  busy(delta: 1 | -1): void;
  /** A job ended; a trial trained to its end says on what (its trainer's backend and device, where it reported them). */
  trialEnded(outcome: TrialOutcome, ran?: TrainedOn): void;
}

const PREFIX = `${METRICS_PREFIX}worker_`;

export class WorkerMetrics implements WorkerObserver {
  readonly registry = new Registry();
  private readonly trials = new Counter({ name: `${PREFIX}trials_total`, help: 'Jobs this worker took, by how they ended: the trial\'s state, handed_back, lease_lost, dropped (never trained) or error', labelNames: ['outcome'] as const, registers: [this.registry] });
  private readonly trained = new Counter({ name: `${PREFIX}trained_total`, help: 'Trials this worker trained to their end, by the TF.js backend and the device it computed on (GPU, CPU, unknown): node-gpu on the CPU is a GPU machine whose TensorFlow found no GPU', labelNames: ['backend', 'device'] as const, registers: [this.registry] });
  private readonly slots = new Gauge({ name: `${PREFIX}slots`, help: 'Trials this worker trains at once (--concurrency)', registers: [this.registry] });
  private readonly busySlots = new Gauge({ name: `${PREFIX}busy_slots`, help: 'Slots taken by a job now', registers: [this.registry] });
  private readonly info = new Gauge({ name: `${PREFIX}info`, help: 'This worker: its lease owner name and renorm-tune version', labelNames: ['owner', 'version'] as const, registers: [this.registry] });
  owner: string | undefined;

  constructor() {
    // Every outcome present from the start, so a rate over it is defined before the first of each.
    for (const outcome of ['COMPLETE', 'PRUNED', 'FAIL', 'handed_back', 'lease_lost', 'dropped', 'error'] satisfies TrialOutcome[]) this.trials.inc({ outcome }, 0);
  }

  started(owner: string, slots: number): void {
    this.owner = owner;
    this.slots.set(slots);
    this.info.set({ owner, version: PACKAGE_VERSION }, 1);
  }

  busy(delta: 1 | -1): void {
    this.busySlots.inc(delta);
  }

  trialEnded(outcome: TrialOutcome, ran?: TrainedOn): void {
    this.trials.inc({ outcome });
    if (ran) this.trained.inc({ backend: ran.backend, device: ran.device });
  }

  /** Listens on `host:port` (0: a free port); resolves with the URL once listening. */
  async serve(host: string, port: number): Promise<{ url: string; close(): Promise<void> }> {
    const server: Server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('GET only\n');
      } else if (path === '/metrics') {
        Registry.merge([processMetrics(), this.registry]).metrics().then(
          (body) => res.writeHead(200, { 'Content-Type': this.registry.contentType, 'Cache-Control': 'no-store' }).end(body),
          (err: Error) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`metrics failed: ${err.message}\n`),
        );
      } else if (path === '/health') {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ ok: true, owner: this.owner ?? null, version: PACKAGE_VERSION }));
      } else {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('this worker serves /metrics and /health\n');
      }
    });
    const bound = await listenOn(server, host, port, {
      port: '--metrics-port', host: '--metrics-host', portFix: 'pick another --metrics-port (one per worker on a machine), or 0 for a free one',
    });
    server.unref();
    return {
      url: `http://${bound}`,
      close: () => new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
    };
  }
}
