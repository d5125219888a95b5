// Shared by the queue tests: real Redis (skipped when unreachable), a key prefix and a database per test, CLI processes, and a training log.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { openStorage } from '../../src/study/storage/index.js';
import type { Storage, StudyRecord, TrialRecord } from '../../src/study/types.js';
import { createTestDatabase } from '../fixtures/pg.js';

export const REDIS_URL = process.env.RENORM_TEST_REDIS ?? 'redis://127.0.0.1:6379';
const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
export const countingTrainer = fileURLToPath(new URL('../fixtures/workers/counting_trainer.js', import.meta.url));

export type Store = 'sqlite' | 'postgres';

export { pgSkip } from '../fixtures/pg.js';

/** A fresh database on the test server: its URL, and how to drop it. */
export async function pgDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const db = await createTestDatabase('queue');
  if ('unavailable' in db) throw new Error(db.unavailable);
  return db;
}

/** Why the Redis tests are skipped, or false when Redis answers (checked once per file). */
export async function redisSkip(): Promise<string | false> {
  const r = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  r.on('error', () => undefined);
  try {
    await r.connect();
    await r.ping();
    return false;
  } catch (err) {
    return `Redis unreachable at ${REDIS_URL} (${(err as Error).message})`;
  } finally {
    r.disconnect();
  }
}

/**
 * Deletes every key under `prefix` (what a Redis that lost everything looks like to this test's queue). Fails at once,
 * not after ioredis's retries, on a server it cannot use (one gone, or one whose TLS certificate this process does
 * not trust): cleanups catch that and move on.
 */
export async function deletePrefix(prefix: string, redis = REDIS_URL): Promise<number> {
  const r = new Redis(redis, { maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => undefined);
  try {
    let cursor = '0';
    let n = 0;
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) n += await r.del(...keys);
    } while (cursor !== '0');
    return n;
  } finally {
    r.disconnect();
  }
}

export interface Proc {
  child: ChildProcess;
  /** stdout + stderr so far. */
  out(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }>;
}

/**
 * `renorm-tune ...args`. `ownGroup`: the process leads a process group of its own (with the children it forks), so a
 * test can signal the whole group, as a terminal's Ctrl-C and systemd's stop do: `process.kill(-pid, signal)`.
 */
export function cli(args: string[], env: Record<string, string> = {}, { ownGroup = false } = {}): Proc {
  return procOf(spawn(process.execPath, [main, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, detached: ownGroup }));
}

/** A spawned process (stdout and stderr piped) as a Proc: its output gathered, its exit awaited. */
export function procOf(child: ChildProcess): Proc {
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }>((r) => child.on('exit', (code, signal) => r({ code, signal, out })));
  return { child, out: () => out, exited };
}

/** Waits for a process to exit, killing it (and failing) after `ms`. */
export async function exitOf(p: Proc, ms = 90_000): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      p.child.kill('SIGKILL');
      reject(new Error(`process did not exit within ${ms} ms; output:\n${p.out()}`));
    }, ms);
  });
  try {
    return await Promise.race([p.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function until<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, ms = 60_000, every = 100): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

/** One test's world: a temp dir, a database (SQLite file or PostgreSQL database), a Redis key prefix, a study config and a training log. */
export class Scene {
  readonly prefix = `renorm-test-${randomBytes(4).toString('hex')}`;
  readonly log: string;
  readonly config: string;
  /** Every process this scene started (through `coordinator`, `worker` or `track`), killed at cleanup. */
  readonly procs: Proc[] = [];
  private store: Promise<Storage> | undefined;

  private constructor(
    readonly name: string,
    readonly dir: string,
    readonly db: string,
    private readonly dropDb: () => Promise<void>,
    config: Record<string, unknown>,
    private readonly stepMs: number,
    readonly redis: string,
  ) {
    this.log = join(dir, 'train.log');
    this.config = join(dir, 'study.json');
    writeFileSync(this.config, JSON.stringify({ name, optimizer: { type: 'random' }, ...config }));
  }

  /** `redis`: the queue's server (another than the tests' shared one, for a test that restarts it). */
  static async create(store: Store, name: string, config: Record<string, unknown>, stepMs = 10, redis = REDIS_URL): Promise<Scene> {
    const dir = mkdtempSync(join(tmpdir(), 'renorm-queue-'));
    if (store === 'sqlite') return new Scene(name, dir, join(dir, 'study.db'), async () => {}, config, stepMs, redis);
    const { url, drop } = await pgDatabase();
    return new Scene(name, dir, url, drop, config, stepMs, redis);
  }

  /** `db`: another way to the same database (a relay in front of the server). */
  coordinator(extra: string[] = [], db = this.db): Proc {
    return this.track(cli(['run', this.config, '--db', db, '--redis', this.redis, '--redis-prefix', this.prefix, ...extra]));
  }

  worker(extra: string[] = [], db = this.db, opts: { ownGroup?: boolean } = {}): Proc {
    return this.track(cli(['worker', '--db', db, '--redis', this.redis, '--redis-prefix', this.prefix, '--trial-worker', countingTrainer, ...extra], {
      RENORM_TEST_TRAIN_LOG: this.log,
      RENORM_TEST_STEP_MS: String(this.stepMs),
    }, opts));
  }

  /** The study as stored, through this test's own connection (another process, as far as the CLI processes know). */
  async read(): Promise<{ study: StudyRecord | undefined; trials: TrialRecord[] }> {
    if (!this.db.includes('://') && !existsSync(this.db)) return { study: undefined, trials: [] };
    const s = await (this.store ??= openStorage(this.db));
    const study = await s.findStudyByName(this.name);
    return { study, trials: study ? await s.listTrials(study.id) : [] };
  }

  /** Training starts (pids, and when) and ends per trial id, from the fixture trainer's log (every process appends to it). */
  trainings(): Map<number, { starts: number[]; startMs: number[]; ends: string[] }> {
    const out = new Map<number, { starts: number[]; startMs: number[]; ends: string[] }>();
    const text = existsSync(this.log) ? readFileSync(this.log, 'utf8') : '';
    for (const line of text.split('\n').filter(Boolean)) {
      const [what, id, , pid, statusOrMs] = line.split(' ');
      const rec = out.get(Number(id)) ?? { starts: [], startMs: [], ends: [] };
      if (what === 'start') {
        rec.starts.push(Number(pid));
        rec.startMs.push(Number(statusOrMs));
      } else {
        rec.ends.push(`${pid}:${statusOrMs}`);
      }
      out.set(Number(id), rec);
    }
    return out;
  }

  /** Kills `p` at cleanup if it is still running. */
  track(p: Proc): Proc {
    this.procs.push(p);
    return p;
  }

  async cleanup(): Promise<void> {
    for (const p of this.procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(this.procs.map((p) => p.exited));
    if (this.store) await (await this.store).close();
    await deletePrefix(this.prefix, this.redis).catch(() => 0);
    await this.dropDb().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A readable line per trial for assertion messages. */
export function describeTrials(trials: TrialRecord[]): string {
  return trials.map((t) => `#${t.number}:${t.role}:${t.state}:r${t.retries}${t.failureReason ? `(${t.failureReason})` : ''}`).join(' ');
}
