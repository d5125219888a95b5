// An external study served over HTTP while faults land at random: outside trainers (the Python client's
// study.optimize) killed, interrupted, frozen past their lease; a server killed or stopped and started again on the
// same port, or suspended mid-ask (on PostgreSQL two servers share the study, as behind a load balancer, so the other
// one asks on past the held study lock); a call's answer cut off after it landed; PostgreSQL cut off. Then every invariant a trainer relies on is checked: the study completes within its
// exact budget, every trial ends, every tell the server acknowledged is the one stored, nothing trains twice without
// a fault to explain it, no trainer dies of a fault that was not its own, nothing prints a stack trace, and the best
// schedule exports.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { countsTowardBudget } from '../../src/shared/roles.js';
import type { TrialRecord } from '../../src/study/types.js';
import { PYTHON, pythonEnv } from '../clients/helpers.js';
import { cli, describeTrials, exitOf, type Proc, procOf, Scene } from '../distributed/helpers.js';
import { type HttpProxy, startHttpProxy } from '../fixtures/http_proxy.js';
import { freePort } from '../fixtures/ports.js';
import { type Relay, startRelay } from '../fixtures/relay.js';
import { alive, countFaults, cutDatabase, Freezer, explainRestarts, exportProblems, type FaultEvent, keepEvidence, picker, rng, sleep, type SoakOptions, type SoakReport, stackTraces, strike } from './invariants.js';

export const FAULTS = ['trainer-kill', 'trainer-interrupt', 'trainer-freeze', 'server-kill', 'server-term', 'server-freeze', 'answer-cut', 'database-cut'] as const;
export type Fault = (typeof FAULTS)[number];

/** Relative odds of each fault per tick (database-cut only on PostgreSQL, behind a relay). */
const ODDS: Record<Fault, number> = {
  'trainer-kill': 4, 'trainer-interrupt': 2, 'trainer-freeze': 3, 'server-kill': 3, 'server-term': 1.5, 'server-freeze': 2, 'answer-cut': 3, 'database-cut': 1.5,
};

/** Faults after which a trial may train again from the start: its trainer died, froze past its lease or handed it back. */
const RESTARTS_ITS_TRAINERS_TRIAL: ReadonlySet<Fault> = new Set(['trainer-kill', 'trainer-interrupt', 'trainer-freeze']);
/** Faults that may cost any running trial its lease: the server or its database away while leases run out. */
const RESTARTS_EVERY_TRIAL: ReadonlySet<Fault> = new Set(['server-kill', 'server-term', 'server-freeze', 'database-cut']);
/** Faults after which a trainer's exit is its own fault's doing. */
const ENDS_ITS_TRAINER: ReadonlySet<Fault> = new Set(['trainer-kill', 'trainer-interrupt']);

const LEASE_SECONDS = 6;
const MAX_RETRIES = 2;
const TRAINERS = 3;
/** How long a server's ask waits for a study lock another one holds (PostgreSQL's `?lock_wait`), s: below a freeze. */
const LOCK_WAIT_SECONDS = 1;
/** What another server's ask says when it gives up waiting for the lock (PgStorage.lockStudy). */
const WAITS_GIVEN_UP = /has held its ask lock for over/g;
/** What optimize says of a trial whose ask was answered after its lease had gone to another trainer. */
const ANSWERED_LATE = /answered after [\d.]+ s: .*lease lost/g;
/** How long after an ask reaches a server it is suspended: its study lock taken, its model still fitting. */
const FREEZE_AFTER_MS = 30;

/** One API server of the study: its port, its process (a new one after each restart), the proxy in front of it. */
interface Served {
  port: number;
  proc: Proc;
  proxy: HttpProxy;
  /** The proxy cuts the answer of the next POST. */
  cutNext: boolean;
  /** > 0: the next ask suspends the server for this long, ms. */
  freezeMs: number;
}
/** The failure the trainer raises on purpose (trainer.py): told failed, the loop goes on. */
const OWN_FAILURE = /^RuntimeError: the trainer's own failure/;
const TRAINER = fileURLToPath(new URL('../../../test/soak/trainer.py', import.meta.url));

export type ServiceChaosOptions = SoakOptions;
export type ServiceChaosReport = SoakReport<Fault>;

type Event = FaultEvent<Fault>;

function python(args: string[], env: NodeJS.ProcessEnv): Proc {
  return procOf(spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'], env }));
}

/** What the trainers wrote to their shared log (trainer.py). */
interface TrainerLog {
  starts: Map<number, { pid: number; ms: number }[]>;
  told: Map<number, { pid: number; state: string; value: number | null }[]>;
}

function readLog(path: string): TrainerLog {
  const log: TrainerLog = { starts: new Map(), told: new Map() };
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  for (const line of text.split('\n').filter(Boolean)) {
    const [what, a, b, c, d] = line.split(' ');
    if (what === 'start') {
      const list = log.starts.get(Number(a)) ?? [];
      list.push({ pid: Number(b), ms: Number(c) });
      log.starts.set(Number(a), list);
    } else if (what === 'told') {
      const list = log.told.get(Number(a)) ?? [];
      list.push({ pid: Number(b), state: c!, value: d === 'None' ? null : Number(d) });
      log.told.set(Number(a), list);
    }
  }
  return log;
}

export async function runServiceChaos(opts: ServiceChaosOptions): Promise<ServiceChaosReport> {
  const t0 = Date.now();
  const random = rng(opts.seed);
  const say = (line: string) => opts.progress?.(`${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s  ${line}`);
  const scene = await Scene.create(opts.store, `serve-chaos-${opts.seed}`, {});
  const trainerLog = join(scene.dir, 'trainers.log');
  let relay: Relay | undefined;
  const servers: Served[] = [];
  let db = scene.db;
  const events: Event[] = [];
  const problems: string[] = [];
  const freezer = new Freezer();
  const trainers: Proc[] = [];
  const fault = (kind: Fault, detail: string, pid?: number) => {
    events.push({ kind, ms: Date.now(), pid });
    say(`${kind} ${detail}`);
  };
  try {
    if (opts.store === 'postgres') {
      relay = await startRelay(new URL(scene.db));
      const via = relay.via(scene.db);
      via.searchParams.set('connect_timeout', '2');
      via.searchParams.set('lock_wait', String(LOCK_WAIT_SECONDS));
      db = via.href;
    }
    const startServer = async (port: number): Promise<Proc> => {
      const p = scene.track(cli(['serve', '--port', String(port), '--db', db]));
      const until = Date.now() + 30_000;
      while (!p.out().includes(` at http://127.0.0.1:${port}`)) {
        if (!alive(p) || Date.now() > until) throw new Error(`serve did not start on port ${port}: ${p.out()}`);
        await sleep(50);
      }
      return p;
    };
    // Each server behind a proxy that can cut the answer of a call that landed, as a server killed right after doing
    // the work does, and can suspend the server just after an ask arrives (mid-ask, holding the study's lock); while
    // a server is down its proxy listens on nothing, so calls are refused, as they are.
    for (let i = 0; i < (opts.store === 'postgres' ? 2 : 1); i++) {
      const port = await freePort();
      const served: Served = { port, proc: await startServer(port), proxy: undefined!, cutNext: false, freezeMs: 0 };
      served.proxy = await startHttpProxy(`http://127.0.0.1:${port}`, (method, path) => {
        if (method !== 'POST') return 'pass';
        if (served.freezeMs > 0 && path.endsWith('/ask')) {
          const ms = served.freezeMs;
          served.freezeMs = 0;
          setTimeout(() => {
            if (!alive(served.proc)) return;
            fault('server-freeze', `pid ${served.proc.child.pid} ${FREEZE_AFTER_MS} ms into an ask, for ${(ms / 1000).toFixed(1)} s`, served.proc.child.pid);
            freezer.freeze(served.proc, ms);
          }, FREEZE_AFTER_MS);
        }
        if (!served.cutNext) return 'pass';
        served.cutNext = false;
        return 'cut-answer';
      });
      servers.push(served);
    }
    const created = await fetch(`${servers[0]!.proxy.url}/api/studies`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: scene.name, executor: 'external', objective: { metric: 'score', direction: 'maximize', bounds: [0, 1] },
        totalSteps: 300, optimizer: { type: 'gp', initialTrials: 5 }, budget: { trials: opts.trials },
        pruner: { type: 'median', warmupSteps: 60, minTrials: 3 }, finalValidation: { seeds: 2, race: { candidates: 2, seeds: 1 } },
        leaseSeconds: LEASE_SECONDS, maxRetries: MAX_RETRIES, seed: opts.seed,
      }),
    });
    if (created.status !== 201) throw new Error(`the study was not created: ${created.status} ${await created.text()}`);

    // The trainers take the servers in turn, as behind a load balancer.
    let started = 0;
    const startTrainer = () => {
      const url = servers[started++ % servers.length]!.proxy.url;
      trainers.push(scene.track(python([TRAINER, url, scene.name, trainerLog], pythonEnv(url))));
    };
    let finished = false;
    const look = async () => {
      finished ||= (await scene.read()).study?.state === 'COMPLETE';
      return finished;
    };
    const keepUp = () => {
      for (let live = trainers.filter(alive).length; !finished && live < TRAINERS; live++) startTrainer();
    };
    keepUp();

    const pick = picker(FAULTS.filter((f) => f !== 'database-cut' || relay), ODDS, random);
    const chaosEnd = Date.now() + opts.chaosMs;
    while (!(await look()) && Date.now() < chaosEnd) {
      await sleep(1000 + random() * 2500);
      if (await look()) break;
      keepUp();
      const kind = pick();
      const victim = freezer.victim(trainers, random);
      const served = servers[Math.floor(random() * servers.length)]!;
      switch (kind) {
        case 'trainer-kill':
        case 'trainer-interrupt':
        case 'trainer-freeze':
          strike(kind, victim, kind === 'trainer-kill' ? 'SIGKILL' : kind === 'trainer-interrupt' ? 'SIGINT' : 'freeze', { freezer, leaseSeconds: LEASE_SECONDS, random, fault });
          break;
        case 'server-kill':
        case 'server-term': {
          const { proc, proxy } = served;
          const ms = kind === 'server-kill' ? 300 + random() * 2700 : 0;
          fault(kind, `pid ${proc.child.pid}${ms ? `, down ${(ms / 1000).toFixed(1)} s` : ''}`, proc.child.pid);
          proc.child.kill(kind === 'server-kill' ? 'SIGKILL' : 'SIGTERM');
          const gone = await exitOf(proc, 30_000).catch((err: Error) => ({ code: null, signal: null, out: err.message }));
          if (kind === 'server-term' && gone.code !== 0) problems.push(`the server stopped by SIGTERM exited ${gone.code ?? gone.signal}:\n${gone.out.slice(-2000)}`);
          await proxy.pause();
          await sleep(ms);
          served.proc = await startServer(served.port);
          await proxy.resume();
          break;
        }
        case 'server-freeze':
          // Suspended for longer than the other server's lock wait, shorter than a lease.
          served.freezeMs = (LOCK_WAIT_SECONDS + 0.5 + random() * 2.5) * 1000;
          say(`server-freeze armed: pid ${served.proc.child.pid} at its next ask`);
          break;
        case 'answer-cut':
          fault(kind, 'the next call lands, its answer is cut off');
          served.cutNext = true;
          break;
        case 'database-cut':
          await cutDatabase(kind, relay!, random, fault);
          break;
      }
    }
    say(finished ? 'the study ended during the faults' : 'faults stop; waiting for the study to end');
    freezer.thawAll();
    const settleEnd = Date.now() + opts.settleMs;
    while (!(await look()) && Date.now() < settleEnd) {
      keepUp();
      await sleep(500);
    }
    const tail = (p: Proc) => p.out().split('\n').slice(-15).join('\n');
    if (!finished) {
      const { study, trials } = await scene.read();
      problems.push(`the study did not end within ${opts.settleMs / 1000} s of the last fault. The study ${study?.state}: ${describeTrials(trials)}\n` +
        servers.map(({ proc }) => `server ${proc.child.pid} said last:\n${tail(proc)}\n`).join('') +
        trainers.filter(alive).map((w) => `trainer ${w.child.pid} said last:\n${tail(w)}`).join('\n'));
    }
    // Every trainer still running ends on its own once the study is complete (its next ask is BUDGET_EXHAUSTED).
    for (const w of trainers.filter(alive)) {
      const end = await exitOf(w, 30_000).catch(() => undefined);
      if (!end) problems.push(`trainer ${w.child.pid} still ran 30 s after the study ended; it said last:\n${tail(w)}`);
    }
    const ended = new Set(events.filter((e) => ENDS_ITS_TRAINER.has(e.kind)).map((e) => e.pid));
    for (const w of trainers) {
      const { exitCode, signalCode, pid } = w.child;
      if (exitCode !== 0 && !ended.has(pid)) problems.push(`trainer ${pid} exited ${exitCode ?? signalCode} with no fault of its own:\n${tail(w)}`);
    }
    return keepEvidence(await check(scene, db, opts, events, problems, readLog(trainerLog), Date.now() - t0), scene, events, [trainerLog]);
  } finally {
    freezer.thawAll();
    await scene.cleanup();
    await relay?.close();
    for (const { proxy } of servers) await proxy?.close();
  }
}

async function check(scene: Scene, db: string, opts: ServiceChaosOptions, events: Event[], problems: string[], log: TrainerLog, ms: number): Promise<ServiceChaosReport> {
  const { study, trials } = await scene.read();
  const search = trials.filter((t) => countsTowardBudget(t.role));
  if (study?.state !== 'COMPLETE') problems.push(`the study is ${study?.state ?? 'missing'}, not COMPLETE`);
  if (search.length !== opts.trials) problems.push(`${search.length} search trials for a budget of ${opts.trials}: ${describeTrials(trials)}`);
  const lost = new RegExp(`lease expired ${MAX_RETRIES + 1} times`);
  // A lease may run out on a trial that no trainer started: its ask's answer was lost with a trainer killed mid-ask,
  // or came too late (optimize then asks again). So a trial failed for its lost leases must have started once, not three times.
  const lostTooOften = (t: TrialRecord) => lost.test(t.failureReason ?? '') && (log.starts.get(t.number)?.length ?? 0) >= 1;
  const failed = trials.filter((t) => t.state === 'FAIL' && !OWN_FAILURE.test(t.failureReason ?? ''));
  const unfinished = trials.filter((t) => t.state !== 'COMPLETE' && t.state !== 'PRUNED' && !(t.state === 'FAIL' && (OWN_FAILURE.test(t.failureReason ?? '') || lostTooOften(t))));
  if (unfinished.length) problems.push(`trials neither COMPLETE, PRUNED, failed by the trainer nor failed after losing their lease ${MAX_RETRIES + 1} times: ${describeTrials(unfinished)}`);

  // Every tell the server acknowledged is the one it stored, and none was acknowledged twice.
  const byNumber = new Map<number, TrialRecord>(trials.map((t) => [t.number, t]));
  for (const [number, tells] of log.told) {
    const t = byNumber.get(number);
    if (tells.length > 1) problems.push(`trial #${number} was told ${tells.length} times, each acknowledged: ${JSON.stringify(tells)}`);
    const last = tells[tells.length - 1]!;
    const stored = t?.value ?? null;
    const same = last.value === null ? stored === null : stored !== null && Math.abs(stored - last.value) <= 1e-9 * Math.max(1, Math.abs(last.value));
    if (!t || t.state !== last.state || !same) problems.push(`trial #${number} was acknowledged ${last.state} ${last.value} but is stored ${t ? `${t.state} ${t.value}` : 'nowhere'}`);
  }

  const starts = new Map([...log.starts].map(([number, list]) => [`#${number}${byNumber.get(number) ? ` (${byNumber.get(number)!.role})` : ''}`, list]));
  const { retrained, problems: unexplained } = explainRestarts(starts, events, RESTARTS_EVERY_TRIAL, RESTARTS_ITS_TRAINERS_TRIAL);
  problems.push(...unexplained, ...stackTraces(scene.procs));
  if (study?.state === 'COMPLETE') problems.push(...await exportProblems(scene, db));
  const faults = countFaults(events);
  const count = (re: RegExp) => scene.procs.reduce((n, p) => n + (p.out().match(re)?.length ?? 0), 0);
  const notes = [`${count(ANSWERED_LATE)} trial(s) answered too late to train (their lease gone), asked again`];
  if (opts.store === 'postgres') notes.push(`${count(WAITS_GIVEN_UP)} wait(s) for a study lock held longer than ${LOCK_WAIT_SECONDS} s given up (the ask went ahead without it, as do later asks while that holder stays idle)`);
  return { store: opts.store, seed: opts.seed, ms, faults, trials: trials.length, retrained, failed: failed.length, problems, notes };
}
