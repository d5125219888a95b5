// A throwaway queue cluster for the benchmark: a SQLite file, a Redis prefix, N `renorm-tune worker` processes, and an in-process coordinator.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { coordinateStudy } from '../../distributed/coordinator.js';
import { Presence } from '../../distributed/presence.js';
import { TrialQueue } from '../../distributed/queue.js';
import { parseRedisRef, type RedisRef } from '../../distributed/redis.js';
import type { StudyConfig } from '../../study/config.js';
import { createStudyService } from '../../study/service/defaults.js';
import type { StudyService } from '../../study/service.js';
import { openStorage } from '../../study/storage/index.js';
import type { Storage, TrialRecord } from '../../study/types.js';

const MAIN = fileURLToPath(new URL('../../cli/main.js', import.meta.url));

export interface ClusterRun {
  /** Coordinator start to study COMPLETE, seconds. */
  seconds: number;
  trials: TrialRecord[];
}

export class Cluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'renorm-bench-queue-'));
  readonly db = join(this.dir, 'bench.db');
  readonly redis: RedisRef;
  private readonly workers: { child: ChildProcess; exited: Promise<void>; out: string[] }[] = [];
  private storage: Storage | undefined;
  private service: StudyService | undefined;

  constructor(redisUrl: string) {
    this.redis = parseRedisRef(redisUrl, `renorm-bench-${randomBytes(4).toString('hex')}`);
  }

  /** Starts `n` worker processes and waits until they all announce themselves (their start-up is not timed). */
  async startWorkers(n: number, args: string[], env: Record<string, string> = {}): Promise<void> {
    // The coordinator creates the database; a worker refuses to open one that does not exist yet.
    await this.open();
    for (let i = 0; i < n; i++) {
      const child = spawn(process.execPath, [MAIN, 'worker', '--db', this.db, '--redis', this.redis.url, '--redis-prefix', this.redis.prefix, '--idle-exit', '30', ...args], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, ...env },
      });
      const out: string[] = [];
      child.stderr!.on('data', (d) => out.push(String(d)));
      this.workers.push({ child, out, exited: new Promise((r) => child.on('exit', () => r())) });
    }
    const presence = new Presence(this.redis);
    try {
      const end = Date.now() + 120_000;
      while ((await presence.workers()).length < n) {
        const dead = this.workers.find((w) => w.child.exitCode !== null);
        if (dead) throw new Error(`a benchmark worker exited: ${dead.out.join('')}`);
        if (Date.now() > end) throw new Error(`workers did not announce themselves within 120 s: ${this.workers.map((w) => w.out.join('')).join('\n')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await presence.close();
    }
  }

  /** Coordinates `config` to completion in this process; the workers train it. */
  async coordinate(config: StudyConfig): Promise<ClusterRun> {
    const service = await this.open();
    const queue = new TrialQueue(this.redis);
    const presence = new Presence(this.redis);
    try {
      const t0 = performance.now();
      const res = await coordinateStudy(config, { service, queue, presence, pollMs: 1000 });
      const seconds = (performance.now() - t0) / 1000;
      if (res.state !== 'COMPLETE') throw new Error(`benchmark study ended ${res.state}`);
      return { seconds, trials: await service.listTrials(res.study.id) };
    } finally {
      await queue.close();
      await presence.close();
    }
  }

  async close(): Promise<void> {
    for (const w of this.workers) if (w.child.exitCode === null) w.child.kill('SIGTERM');
    await Promise.all(this.workers.map((w) => w.exited));
    this.service?.close();
    await this.storage?.close();
    const r = new Redis(this.redis.url);
    try {
      let cursor = '0';
      do {
        const [next, keys] = await r.scan(cursor, 'MATCH', `${this.redis.prefix}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await r.del(...keys);
      } while (cursor !== '0');
    } finally {
      r.disconnect();
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async open(): Promise<StudyService> {
    this.storage ??= await openStorage(this.db);
    return (this.service ??= createStudyService(this.storage));
  }
}

/** Milliseconds between one trial's finish and the next one's claim, with one worker slot (trials run one after another). */
export function gapsMs(trials: readonly TrialRecord[]): number[] {
  const ordered = trials.filter((t) => t.startedAt && t.finishedAt).sort((a, b) => Date.parse(a.startedAt!) - Date.parse(b.startedAt!));
  const out: number[] = [];
  for (let i = 1; i < ordered.length; i++) out.push(Date.parse(ordered[i]!.startedAt!) - Date.parse(ordered[i - 1]!.finishedAt!));
  return out;
}

/** Each trial's claim-to-finish time, ms. */
export function durationsMs(trials: readonly TrialRecord[]): number[] {
  return trials.filter((t) => t.startedAt && t.finishedAt).map((t) => Date.parse(t.finishedAt!) - Date.parse(t.startedAt!));
}

export const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}
