// GET /metrics: the server in Prometheus's text format, for the monitoring a production deployment already runs.
// Three kinds of series: the process (CPU, memory, event-loop delay, GC: prom-client's defaults), the HTTP API
// (requests and their durations by route pattern, never by raw URL, so a study name cannot grow the series), and the
// studies as the storage holds them at scrape time (trials by state, budget, best value), read through the one
// `listStudies` call the study list uses. A storage that cannot be read within the readiness wait makes
// `renorm_tune_storage_up` 0 and leaves the study series out; the scrape itself still answers 200, as exporters do.
// A server that watches a queue (`serve --redis`) adds the queue's series (src/server/queue_series.ts), likewise
// `renorm_tune_queue_up` 0 alone when Redis does not answer in time.
import type { Request, RequestHandler, Response } from 'express';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { METRICS_PREFIX, processMetrics } from '../process_metrics.js';
import type { StudyApi } from '../study/api_types.js';
import { within } from './deadline.js';
import type { QueueView } from './queue_view.js';
import { type QueueRead, queueSeries } from './queue_series.js';
import { type StorageRead, studySeries } from './study_series.js';

/** Seconds: an ask on a large study takes seconds, a health check a millisecond. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The route pattern a request matched (`/api/studies/:id/trials/:number/tell`), `unmatched` for a 404 or a request
 * refused before routing (a wrong token or Host), so the label takes a bounded set of values.
 */
export function routeLabel(req: Request): string {
  const path: unknown = (req as { route?: { path?: unknown } }).route?.path;
  if (typeof path !== 'string') return 'unmatched';
  // The /api router's routes are relative to its mount point; express has restored req.baseUrl by the time the
  // answer is sent, so the mount is read from the URL.
  return req.originalUrl.startsWith('/api/') || req.originalUrl === '/api' ? `/api${path}` : path;
}

export interface ServerMetrics {
  /** Mounted first: counts every request and times every answer but an event stream's (open for as long as a page). */
  observe: RequestHandler;
  /** GET /metrics. */
  scrape: RequestHandler;
}

/** `waitMs`: how long a scrape waits for the storage (and the queue) before reporting it down. */
export function serverMetrics(api: StudyApi, waitMs: number, queue?: QueueView): ServerMetrics {
  const http = new Registry();
  const requests = new Counter({
    name: `${METRICS_PREFIX}http_requests_total`, help: 'HTTP requests answered, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const, registers: [http],
  });
  const durations = new Histogram({
    name: `${METRICS_PREFIX}http_request_duration_seconds`, help: 'Time to answer an HTTP request (event streams excluded), by method and route pattern',
    labelNames: ['method', 'route'] as const, buckets: DURATION_BUCKETS, registers: [http],
  });
  const streams = new Gauge({ name: `${METRICS_PREFIX}event_streams_open`, help: 'Study event streams (dashboard pages) open now', registers: [http] });

  const observe: RequestHandler = (req, res, next) => {
    const start = process.hrtime.bigint();
    let stream = false;
    const done = () => {
      const route = routeLabel(req);
      requests.inc({ method: req.method, route, status: String(res.statusCode) });
      if (stream) streams.dec();
      else durations.observe({ method: req.method, route }, Number(process.hrtime.bigint() - start) / 1e9);
    };
    // An event stream announces itself in its headers; it is counted open until it ends.
    const writeHead = res.writeHead;
    res.writeHead = function (this: Response, ...args: Parameters<Response['writeHead']>) {
      if (!stream && String(res.getHeader('content-type') ?? '').startsWith('text/event-stream')) {
        stream = true;
        streams.inc();
      }
      return writeHead.apply(this, args);
    } as Response['writeHead'];
    res.once('close', done);
    next();
  };

  const scrape: RequestHandler = async (_req, res, next) => {
    try {
      const [stored, queued] = await Promise.all([storageRead(api, waitMs), queue && queueRead(queue, waitMs)]);
      const body = `${await Registry.merge([processMetrics(), http]).metrics()}\n${studySeries(stored)}${queued ? `\n${queueSeries(queued)}` : ''}`;
      res.set('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE).set('Cache-Control', 'no-store').send(body);
    } catch (err) {
      next(err);
    }
  };
  return { observe, scrape };
}

/** `read` with the deadline `within` gives it: its value, or undefined once it failed or took `waitMs`; and how long it took. */
async function timedRead<T>(read: Promise<T>, waitMs: number): Promise<{ value: T | undefined; seconds: number }> {
  const start = process.hrtime.bigint();
  let value: T | undefined;
  try {
    value = await within(read, waitMs, () => new Error(`no answer within ${waitMs / 1000} s`));
  } catch {
    value = undefined;
  }
  return { value, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

async function storageRead(api: StudyApi, waitMs: number): Promise<StorageRead> {
  const { value: studies, seconds } = await timedRead(api.listStudies(), waitMs);
  return { studies, seconds };
}

async function queueRead(queue: QueueView, waitMs: number): Promise<QueueRead> {
  const { value: status, seconds } = await timedRead(queue.status(), waitMs);
  return { status, seconds };
}
