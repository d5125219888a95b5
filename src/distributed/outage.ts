// Redis going away and coming back, said in plain words: once when it goes, every minute while it stays away, once when it is back.
//
// Without this a worker printed BullMQ's raw reconnect errors ("[worker] queue: connect ECONNREFUSED 127.0.0.1:6379")
// every 10 s and said nothing when Redis returned, and a coordinator said nothing at all: its study seemed to hang.
import { SOCKET_LOST_CODES, SOCKET_LOST_IN_MESSAGE } from '../net_errors.js';

/** A socket-level failure (the codes of src/net_errors.ts, in the code or only the message), or ioredis's own word for a dropped connection. */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (typeof e?.code === 'string' && SOCKET_LOST_CODES.has(e.code)) return true;
  return typeof e?.message === 'string' && (SOCKET_LOST_IN_MESSAGE.test(e.message) || e.message.includes('Connection is closed'));
}

/** How often a Redis that stays away is mentioned again. */
export const STILL_AWAY_EVERY_MS = 60_000;

export class RedisOutage {
  private since: number | null = null;
  private saidAt = 0;

  /**
   * @param label   the speaker, e.g. `[worker]`
   * @param where   the Redis URL, password redacted
   * @param meanwhile what goes on without Redis, said with the first line
   */
  constructor(
    private readonly log: (line: string) => void,
    private readonly label: string,
    private readonly where: string,
    private readonly meanwhile: string,
    private readonly now: () => number = Date.now,
  ) {}

  get away(): boolean {
    return this.since !== null;
  }

  /** The connection failed or closed; `cause` is the client's message. */
  failed(cause: string): void {
    const now = this.now();
    if (this.since === null) {
      this.since = now;
      this.saidAt = now;
      this.log(`${this.label} lost Redis at ${this.where} (${cause}): ${this.meanwhile}`);
    } else if (now - this.saidAt >= STILL_AWAY_EVERY_MS) {
      this.saidAt = now;
      this.log(`${this.label} Redis at ${this.where} still unreachable after ${seconds(now - this.since)} (${cause})`);
    }
  }

  /** The connection is ready again. */
  back(): void {
    if (this.since === null) return;
    this.log(`${this.label} Redis at ${this.where} is back after ${seconds(this.now() - this.since)}`);
    this.since = null;
  }
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}
