// Who is alive on a queue: coordinators and workers announce themselves in Redis keys that expire unless renewed.
import type { Redis } from 'ioredis';
import { type Build, isBuild, THIS_BUILD } from './compat.js';
import { isConnectionError, type RedisOutage } from './outage.js';
import { plainClient, type RedisRef } from './redis.js';

export interface WorkerPresence extends Build {
  owner: string;
  /** Trials it trains at once: the coordinator keeps about this many (summed over workers) in flight. */
  slots: number;
  /** The backend its --backend names for every trial (absent: each study's own), and where it was found to compute. */
  backend?: string;
  device?: 'GPU' | 'CPU';
  /** Its --devices, one process each. */
  devices?: string[];
}

export interface CoordinatorPresence extends Build {
  owner: string;
  studyId: string;
  studyName: string;
}

type Kind = 'worker' | 'coordinator';

/**
 * A coordinator's key outlives a quick restart (kill, start again) so its workers wait for it; a worker's key goes
 * soon after the worker does, so the coordinator stops counting its slots. Both are renewed every second, so a
 * Redis flush forgets them for at most that long.
 */
const TTL_MS: Record<Kind, number> = { worker: 5_000, coordinator: 10_000 };
const RENEW_MS = 1_000;

export class Presence {
  private readonly redis: Redis;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** The records this process announces, renewed by `renew()`. */
  private readonly own = new Map<string, { value: string; ttl: number }>();
  /** When a record of ours was last found gone (Redis restarted, flushed, or unreachable past the TTL). */
  private lostAt = 0;
  private closing = false;
  private outage: RedisOutage | undefined;

  constructor(private readonly ref: RedisRef) {
    this.redis = plainClient(ref);
  }

  private key(kind: Kind, owner: string): string {
    return `${this.ref.prefix}:presence:${kind}:${owner}`;
  }

  /** Announces `record` until the returned function is called (which removes it at once). */
  async announce(kind: 'worker', record: Omit<WorkerPresence, keyof Build>): Promise<() => Promise<void>>;
  async announce(kind: 'coordinator', record: Omit<CoordinatorPresence, keyof Build>): Promise<() => Promise<void>>;
  async announce(kind: Kind, record: { owner: string }): Promise<() => Promise<void>> {
    const key = this.key(kind, record.owner);
    const value = JSON.stringify({ ...record, ...THIS_BUILD });
    await this.redis.set(key, value, 'PX', TTL_MS[kind]);
    this.own.set(key, { value, ttl: TTL_MS[kind] });
    const timer = setInterval(() => void this.renew().catch(() => undefined), RENEW_MS);
    timer.unref();
    this.timers.add(timer);
    return async () => {
      clearInterval(timer);
      this.timers.delete(timer);
      this.own.delete(key);
      await this.redis.del(key).catch(() => undefined);
    };
  }

  /**
   * Reports this client's connection to `outage` (one at a time: a later call replaces the earlier). It renews
   * every second, so it notices Redis going and coming back as soon as the queue's own connections do.
   */
  watch(outage: RedisOutage): void {
    if (!this.outage) {
      this.redis.on('error', (err: Error) => {
        if (isConnectionError(err)) this.outage?.failed(err.message.split('\n')[0]!.replace(this.ref.url, this.ref.where));
      });
      this.redis.on('close', () => {
        if (!this.closing) this.outage?.failed('the connection closed');
      });
      this.redis.on('ready', () => this.outage?.back());
    }
    this.outage = outage;
  }

  /** Renews every record of ours, noting one that Redis no longer held. */
  async renew(): Promise<void> {
    for (const [key, { value, ttl }] of this.own) {
      // XX: only over a record still there (SET's GET option would need Redis 6.2; BullMQ runs on 5).
      if ((await this.redis.set(key, value, 'PX', ttl, 'XX')) === null) {
        this.lostAt = Date.now();
        await this.redis.set(key, value, 'PX', ttl);
      }
    }
  }

  /**
   * Redis lost a record of ours less than a coordinator's TTL ago: it lost everyone's, and a listing lacks the
   * peers that have not announced themselves again yet (each does within a second of reaching Redis).
   */
  forgotRecently(): boolean {
    return Date.now() - this.lostAt < TTL_MS.coordinator;
  }

  async workers(): Promise<WorkerPresence[]> {
    return (await this.list('worker')).filter((w): w is WorkerPresence => Number.isInteger((w as WorkerPresence).slots));
  }

  async coordinators(): Promise<CoordinatorPresence[]> {
    return (await this.list('coordinator')).filter((c): c is CoordinatorPresence => typeof (c as CoordinatorPresence).studyId === 'string');
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const t of this.timers) clearInterval(t);
    this.timers.clear();
    this.redis.disconnect();
  }

  private async list(kind: Kind): Promise<(Build & { owner: string })[]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.scan(cursor, 'MATCH', `${this.ref.prefix}:presence:${kind}:*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    if (keys.length === 0) return [];
    const out: (Build & { owner: string })[] = [];
    for (const raw of await this.redis.mget(...keys)) {
      if (raw === null) continue;
      try {
        const rec = JSON.parse(raw) as Build & { owner: string };
        if (isBuild(rec) && typeof rec.owner === 'string') out.push(rec);
      } catch {
        // a key of ours overwritten by something else: not a live peer
      }
    }
    return out;
  }
}
