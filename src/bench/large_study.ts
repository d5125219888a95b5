// A very large study served: N finished trials (each with a 4-point curve), `renorm-tune serve` in a process of its
// own, and how long GET /api/health waits (../health_probe.ts) while the study's view is fetched, while it is asked,
// and while another process writes it with the view's event stream open (./live_stream.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { get } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateStudyConfig } from '../study/config.js';
import { createStudyService } from '../study/service/defaults.js';
import type { StudyEvent, StudyView } from '../study/api_types.js';
import { copyStudy } from '../study/copy.js';
import { openStorage } from '../study/storage/index.js';
import { applyEvent } from '../shared/live_view.js';
import { startProbe, summarizeLatencies, type LatencySummary } from './health_probe.js';
import { DEFAULT_WRITER, tallyStream, writeLikeWorkers, type StreamTally } from './live_stream.js';
import { cloneTrials } from './pg_clone.js';

export interface LargeStudyOptions {
  trials: number;
  /** Reports per trial (default 4); with 8 or more, each carries the metrics the built-in trainer reports. */
  curvePoints?: number;
  /** A postgres:// URL to build the study in (it is deleted afterwards); default a SQLite file in a temporary folder. */
  db?: string;
  /** Also copy the study into this database (`renorm-tune copy`), timed, then delete the copy. */
  copyTo?: string;
  log: (line: string) => void;
}

export interface TimedStep {
  what: string;
  seconds: number;
  health: LatencySummary;
  /** The view as sent, gzipped. */
  megabytes?: number;
  /** What the study's event stream carried meanwhile. */
  stream?: StreamTally;
}

/** What a dashboard page spends applying the live step's events to the whole study's view. */
export interface PageApply {
  events: number;
  totalMs: number;
  /** The slowest event: the first trial or report event, which indexes the view's trials. */
  slowestMs: number;
  medianMs: number;
}

export interface LargeStudyResult {
  trials: number;
  store: string;
  fillSeconds: number;
  steps: TimedStep[];
  page?: PageApply;
  /** Seconds `renorm-tune copy` took into `copyTo`, reading back and checking included. */
  copySeconds?: number;
}

const CLI_MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const ASK_BATCH = 500;
const CURVE_POINTS = 4;
/** On PostgreSQL, trials filled through the service before the rest are copied in SQL (./pg_clone.ts). */
const PG_FILLED = 1000;

/**
 * What a trial reports at `step` of `points`: a value alone for a short curve, else also the metrics the built-in
 * trainer sends with each (both accuracies, the loss, the clipping limits, two layers' clip fractions, the speed).
 */
function report(step: number, points: number): { value: number; metrics?: Record<string, unknown> } {
  const value = Math.random() * step / (points * 100);
  if (points < 8) return { value };
  const clip = (layer: string) => ({ layer, r: Math.random(), d: Math.random() });
  return {
    value,
    metrics: {
      loss: 2 * (1 - value), valAccuracy: value, valAccuracyTrainMode: value * (0.9 + 0.1 * Math.random()), rmax: 1 + 2 * Math.random(), rmin: 1 / 3, dmax: 5 * Math.random(),
      clip: [clip('brn1'), clip('brn2')], imagesPerSecond: 2000 + 100 * Math.random(), elapsedMs: step * 16.7,
    },
  };
}

/** Fills a study through the service, as trainers would: asked in batches, `points` reports and a tell per trial. */
async function fill(ref: string, name: string, trials: number, points: number, log: (line: string) => void): Promise<string> {
  const storage = await openStorage(ref);
  const service = createStudyService(storage);
  try {
    const config = validateStudyConfig({
      name, scenario: { dataset: 'mnist', steps: 1000 }, executor: 'external', optimizer: { type: 'random' },
      baselines: false, finalValidation: { seeds: 0 },
    });
    const id = (await service.createStudy(config)).id;
    let told = 0;
    let shown = 0;
    while (told < trials) {
      for (const t of await service.ask(id, Math.min(ASK_BATCH, trials - told))) {
        for (let k = 1; k <= points; k++) {
          const r = report(100 * k, points);
          await service.report(id, t.id, 100 * k, r.value, r.metrics ? { metrics: r.metrics } : {});
        }
        await service.tell(id, t.id, { value: Math.random() });
        told++;
      }
      if (told - shown >= trials / 10) {
        log(`  filled ${told} of ${trials} trials`);
        shown = told;
      }
    }
    return id;
  } finally {
    service.close();
    await storage.close();
  }
}

/** `renorm-tune serve` on a free port; resolves with its URL once it says where it listens. */
function serve(ref: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [CLI_MAIN, 'serve', '--db', ref, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = / at (http:\/\/\S+?);/.exec(out);
      if (m) resolve({ url: m[1]!, child });
    });
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.on('exit', (code) => reject(new Error(`renorm-tune serve exited (${code}) before listening: ${err || out}`)));
  });
}

async function timed(port: number, what: string, work: () => Promise<number | StreamTally | void>): Promise<TimedStep> {
  const probe = startProbe(port, '/api/health');
  const t0 = performance.now();
  const got = await work();
  const seconds = (performance.now() - t0) / 1000;
  const health = summarizeLatencies(await probe.stop());
  return { what, seconds, health, ...(typeof got === 'number' ? { megabytes: got / 1e6 } : got ? { stream: got } : {}) };
}

/**
 * Another process (a store connection of this one's) writes trials as workers would while the study's event stream
 * is open: the stream should tell each change as it comes (trial and report events), not prompt reloads.
 */
async function writtenElsewhere(ref: string, id: string, events: string): Promise<StreamTally> {
  const trials = DEFAULT_WRITER.rounds * DEFAULT_WRITER.perRound;
  let opened!: () => void;
  const open = new Promise<void>((r) => (opened = r));
  const reading = tallyStream(events, (t) => t.completed >= trials, 120_000, opened);
  await Promise.race([open, reading]);
  await writeLikeWorkers(ref, id);
  return reading;
}

/**
 * GET as the dashboard's browser does (gzip), counting the bytes without decoding them: decoding 90 MB would busy
 * this process, whose probe would then report its own delays as the server's.
 */
function gzippedBytes(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, headers: { 'accept-encoding': 'gzip' } }, (res) => {
      if (res.statusCode !== 200 || res.headers['content-encoding'] !== 'gzip') {
        res.resume();
        reject(new Error(`GET ${path}: HTTP ${res.statusCode}, content-encoding ${res.headers['content-encoding'] ?? 'none'}`));
        return;
      }
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => resolve(bytes));
      res.on('error', reject);
    }).on('error', reject);
  });
}

/** `renorm-tune copy` of study `id` from `ref` into `to` (read, one transaction, read back and compared), timed; the copy is deleted. */
async function timedCopy(ref: string, to: string, id: string, log: (line: string) => void): Promise<number> {
  const a = await openStorage(ref);
  const from = createStudyService(a);
  let b: Awaited<ReturnType<typeof openStorage>> | undefined;
  let into: ReturnType<typeof createStudyService> | undefined;
  try {
    b = await openStorage(to);
    into = createStudyService(b);
    const t0 = performance.now();
    const copied = await copyStudy(from, into, id, `${id}-copy-${process.pid}`);
    const seconds = (performance.now() - t0) / 1000;
    log(`  renorm-tune copy into ${to.startsWith('postgres') ? 'PostgreSQL' : to}: ${copied.trials} trials, ${copied.points} curve points in ${seconds.toFixed(1)} s, read back and checked`);
    await into.deleteStudy(copied.to.id);
    return seconds;
  } finally {
    from.close();
    into?.close();
    await a.close();
    await b?.close();
  }
}

/** Times the dashboard's own applyEvent over `events`, on the study's view as fetched after them (the probe is off). */
async function pageApplies(api: string, events: StudyEvent[]): Promise<PageApply> {
  const view = (await (await call(api)).json()) as StudyView;
  const each = events.map((e) => {
    const t0 = performance.now();
    applyEvent(view, e);
    return performance.now() - t0;
  });
  const sorted = [...each].sort((a, b) => a - b);
  return { events: each.length, totalMs: each.reduce((a, b) => a + b, 0), slowestMs: sorted.at(-1) ?? 0, medianMs: sorted[sorted.length >> 1] ?? 0 };
}

async function call(url: string, init?: RequestInit): Promise<Response> {
  const res = await fetch(url, init);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${await res.text()}`);
  return res;
}

export async function benchLargeStudy(o: LargeStudyOptions): Promise<LargeStudyResult> {
  const dir = o.db ? undefined : mkdtempSync(join(tmpdir(), 'renorm-large-'));
  const ref = o.db ?? join(dir!, 'large.db');
  const name = `bench-large-${process.pid}-${Date.now()}`;
  const store = o.db ? 'PostgreSQL' : 'SQLite';
  let id: string | undefined;
  let child: ChildProcess | undefined;
  try {
    const points = o.curvePoints ?? CURVE_POINTS;
    o.log(`large study: ${o.trials} finished trials (${points} reports each) on ${store}, served by \`renorm-tune serve\` in its own process; GET /api/health every 20 ms, each charged from its due time`);
    const f0 = performance.now();
    id = await fill(ref, name, o.db ? Math.min(o.trials, PG_FILLED) : o.trials, points, o.log);
    if (o.db && o.trials > PG_FILLED) {
      o.log(`  copying them in SQL to ${o.trials} trials`);
      await cloneTrials(o.db, id, PG_FILLED, o.trials);
    }
    const fillSeconds = (performance.now() - f0) / 1000;
    const served = await serve(ref);
    child = served.child;
    const port = Number(new URL(served.url).port);
    const api = `${served.url}/api/studies/${id}`;
    const steps: TimedStep[] = [];
    const show = (s: TimedStep) => {
      steps.push(s);
      const size = s.megabytes === undefined ? '' : ` (${s.megabytes.toFixed(1)} MB gzipped)`;
      o.log(`  ${s.what.padEnd(34)} ${s.seconds.toFixed(2).padStart(6)} s${size}: /api/health p50 ${s.health.p50Ms.toFixed(1)} ms, p99 ${s.health.p99Ms.toFixed(0)} ms, max ${s.health.maxMs.toFixed(0)} ms over ${s.health.requests} requests`);
      const st = s.stream;
      if (st) o.log(`    its event stream: ${Object.entries(st.events).map(([k, v]) => `${v} ${k}`).join(', ') || 'no events'}; ${(st.bytes / 1e3).toFixed(0)} kB; ${st.reloads} reload prompts`);
    };
    show(await timed(port, 'idle', () => new Promise((r) => setTimeout(r, 2000))));
    for (let k = 1; k <= 3; k++) {
      show(await timed(port, k === 1 ? 'ask 1 (lists the whole study)' : `ask ${k}`, async () => {
        const asked = (await (await call(`${api}/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"count":1}' })).json()) as { trials: { number: number }[] };
        await call(`${api}/trials/${asked.trials[0]!.number}/tell`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"value":0.5}' });
      }));
    }
    for (let k = 1; k <= 2; k++) show(await timed(port, `GET the study's view (gzip), ${k}`, () => gzippedBytes(port, `/api/studies/${id}`)));
    // What the study page fetches: only the curves it draws (the best trials', the baselines', the unfinished ones').
    show(await timed(port, "GET the page's view, curves=top", () => gzippedBytes(port, `/api/studies/${id}?curves=top`)));
    const written = DEFAULT_WRITER.rounds * DEFAULT_WRITER.perRound;
    const live = await timed(port, `${written} trials written elsewhere, live`, () => writtenElsewhere(ref, id!, `${api}/events`));
    show(live);
    const page = await pageApplies(api, live.stream!.received);
    o.log(`    a dashboard page applies its ${page.events} events to the ${o.trials}-trial view in ${page.totalMs.toFixed(1)} ms: the slowest (the first, which indexes the trials) ${page.slowestMs.toFixed(1)} ms, the median ${(page.medianMs * 1000).toFixed(1)} µs`);
    const copySeconds = o.copyTo ? await timedCopy(ref, o.copyTo, id, o.log) : undefined;
    return { trials: o.trials, store, fillSeconds, steps, page, ...(copySeconds === undefined ? {} : { copySeconds }) };
  } finally {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    if (o.db && id) {
      const storage = await openStorage(o.db);
      await storage.deleteStudy(id).finally(() => storage.close());
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
