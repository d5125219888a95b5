// What every soak shares: its seeded fault sequence, the log of faults, and the checks that hold whatever the path
// (every restart explained by a fault, no stack trace, the best schedule exports).
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { cli, exitOf, type Proc, type Scene, type Store } from '../distributed/helpers.js';
import type { Relay } from '../fixtures/relay.js';

/** One soak study: where, which fault sequence, how big, how long. */
export interface SoakOptions {
  store: Store;
  seed: number;
  /** The study's search budget. */
  trials: number;
  /** How long faults keep coming (the study may end first). */
  chaosMs: number;
  /** How long the study may take to finish once they stop. */
  settleMs: number;
  progress?: (line: string) => void;
}

/** How a soak study went. */
export interface SoakReport<F extends string> {
  store: Store;
  seed: number;
  ms: number;
  faults: Partial<Record<F, number>>;
  trials: number;
  /** Trials that started training more than once, every extra start explained by a fault. */
  retrained: number;
  /** Trials failed after losing their lease (its process killed or frozen) maxRetries + 1 times. */
  failed: number;
  /** Every invariant broken, in words; empty when the run held. */
  problems: string[];
  /** What else the run saw that a reader of its summary should know (e.g. asks that went ahead past a held lock). */
  notes?: string[];
}

/** A fault as it landed: its kind, when, and the process it hit. */
export interface FaultEvent<F extends string> {
  kind: F;
  ms: number;
  pid?: number;
}

/** Park-Miller: the same fault sequence for the same seed (their timing still depends on the machine). */
export function rng(seed: number): () => number {
  let s = (Math.abs(Math.floor(seed)) % 2147483646) + 1;
  return () => (s = (s * 48271) % 2147483647) / 2147483647;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const alive = (p: Proc) => p.child.exitCode === null && p.child.signalCode === null;

/** Processes stopped (SIGSTOP) for a while: each resumes after its time, or at thawAll. */
export class Freezer {
  private readonly frozen = new Set<Proc>();

  /** One of `procs` alive and not frozen, drawn with `random`, or none. */
  victim(procs: Proc[], random: () => number): Proc | undefined {
    const candidates = procs.filter((p) => alive(p) && !this.frozen.has(p));
    return candidates[Math.floor(random() * candidates.length)];
  }

  freeze(p: Proc, ms: number): void {
    p.child.kill('SIGSTOP');
    this.frozen.add(p);
    setTimeout(() => {
      p.child.kill('SIGCONT');
      this.frozen.delete(p);
    }, ms);
  }

  thawAll(): void {
    for (const p of this.frozen) p.child.kill('SIGCONT');
  }
}

/**
 * A fault on one of the processes a soak keeps alive (a worker, a trainer): a signal, or a freeze (SIGSTOP) of 0.6 to
 * 1.8 leases. Nothing when no process was there to hit.
 */
export function strike<F extends string>(kind: F, victim: Proc | undefined, how: NodeJS.Signals | 'freeze',
  at: { freezer: Freezer; leaseSeconds: number; random: () => number; fault: (kind: F, detail: string, pid?: number) => void }): void {
  if (!victim) return;
  const pid = victim.child.pid;
  if (how !== 'freeze') {
    at.fault(kind, `pid ${pid}`, pid);
    victim.child.kill(how);
    return;
  }
  const ms = (0.6 + at.random() * 1.2) * at.leaseSeconds * 1000;
  at.fault(kind, `pid ${pid} for ${(ms / 1000).toFixed(1)} s (lease ${at.leaseSeconds} s)`, pid);
  at.freezer.freeze(victim, ms);
}

/** The database out of reach for 2 to 6 s: the relay in front of it drops every connection and refuses new ones. */
export async function cutDatabase<F extends string>(kind: F, relay: Relay, random: () => number, fault: (kind: F, detail: string) => void): Promise<void> {
  const ms = 2000 + random() * 4000;
  fault(kind, `for ${(ms / 1000).toFixed(1)} s`);
  relay.cut();
  await sleep(ms);
  relay.restore();
}

/** Draws a fault kind by its relative odds. */
export function picker<F extends string>(kinds: readonly F[], odds: Record<F, number>, random: () => number): () => F {
  const total = kinds.reduce((a, f) => a + odds[f], 0);
  return () => {
    let u = random() * total;
    for (const f of kinds) if ((u -= odds[f]) < 0) return f;
    return kinds[kinds.length - 1]!;
  };
}

/**
 * Each time a trial started training again, a fault between its two starts must explain it: one of `every`
 * (restarts any trial), or one of `its` that hit the process that started it. `starts`: per trial (its label),
 * the pids and times it started at. `lateBy`: kinds whose effect lands up to that many ms after the fault, so one
 * that came shortly before the first start still explains (a worker that read the study RUNNING just before a
 * Ctrl-C'd coordinator marked it STOPPED starts the trial, and hands it back at its next heartbeat). Returns how many trials
 * started more than once, and the unexplained restarts.
 */
export function explainRestarts<F extends string>(starts: Map<string, { pid: number; ms: number }[]>, events: FaultEvent<F>[],
  every: ReadonlySet<F>, its: ReadonlySet<F>, lateBy: Partial<Record<F, number>> = {}): { retrained: number; problems: string[] } {
  let retrained = 0;
  const problems: string[] = [];
  for (const [trial, list] of starts) {
    if (list.length < 2) continue;
    retrained++;
    for (let i = 0; i + 1 < list.length; i++) {
      const [{ pid, ms: from }, { pid: again, ms: to }] = [list[i]!, list[i + 1]!];
      const cause = events.find((e) => e.ms >= from - (lateBy[e.kind] ?? 50) && e.ms <= to && (every.has(e.kind) || (its.has(e.kind) && e.pid === pid)));
      if (!cause) {
        const near = events.filter((e) => e.ms >= from - 5000 && e.ms <= to + 1000).map((e) => `${e.kind}${e.pid ? ` ${e.pid}` : ''} at +${e.ms - from} ms`);
        problems.push(`trial ${trial} started again (by pid ${again}) ${to - from} ms after pid ${pid} started it, with no fault to explain it (faults near: ${near.join(', ') || 'none'})`);
      }
    }
  }
  return { retrained, problems };
}

/** A Node stack trace or a Python traceback in any process's output. */
export function stackTraces(procs: Proc[]): string[] {
  const problems: string[] = [];
  for (const p of procs) {
    const out = p.out();
    const stack = /Traceback \(most recent call last\)|\n\s+at .+:\d+:\d+\)?/.exec(out);
    if (stack) problems.push(`pid ${p.child.pid} printed a stack trace:\n${out.slice(Math.max(0, stack.index - 600), stack.index + 1200)}`);
  }
  return problems;
}

/** `renorm-tune export` of the finished study writes a schedule; else why not. */
export async function exportProblems(scene: Scene, db: string): Promise<string[]> {
  const out = join(scene.dir, 'best.json');
  const exported = await exitOf(cli(['export', scene.name, '--db', db, '--out', out]), 60_000);
  let schedule: { schedule?: unknown } | undefined;
  try {
    schedule = JSON.parse(readFileSync(out, 'utf8')) as { schedule?: unknown };
  } catch {
    schedule = undefined;
  }
  return exported.code === 0 && schedule?.schedule ? [] : [`export exited ${exported.code}, writing ${schedule ? JSON.stringify(schedule).slice(0, 200) : 'nothing readable'}:\n${exported.out}`];
}

/** How many faults of each kind landed. */
export function countFaults<F extends string>(events: FaultEvent<F>[]): Partial<Record<F, number>> {
  const faults: Partial<Record<F, number>> = {};
  for (const e of events) faults[e.kind] = (faults[e.kind] ?? 0) + 1;
  return faults;
}

/**
 * A broken run's evidence, copied out of the scene before its cleanup: every process's output (`<pid>.log`), the
 * faults as they landed (`faults.log`: epoch ms, kind, pid) and `files`; the report's problems end with where it went.
 */
export function keepEvidence<F extends string>(report: SoakReport<F>, scene: Scene, events: FaultEvent<F>[], files: string[] = []): SoakReport<F> {
  if (!report.problems.length) return report;
  const dir = mkdtempSync(join(tmpdir(), `renorm-tune-soak-${report.store}-seed${report.seed}-`));
  for (const p of scene.procs) writeFileSync(join(dir, `${p.child.pid}.log`), p.out());
  writeFileSync(join(dir, 'faults.log'), events.map((e) => `${e.ms} ${e.kind}${e.pid ? ` ${e.pid}` : ''}\n`).join(''));
  for (const f of files) if (existsSync(f)) copyFileSync(f, join(dir, basename(f)));
  report.problems.push(`every process's output (by pid) and the run's files are kept in ${dir}`);
  return report;
}
