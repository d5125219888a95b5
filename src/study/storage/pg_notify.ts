// Cross-process change events for PgStorage: one dedicated LISTEN connection per storage, outside the pool, that reconnects when it drops.
import pg from 'pg';
import type { ClientConfig, Notification } from 'pg';

export interface ChangeFeedOptions {
  /** The driver config of the listening connection (the storage's, with its own application_name). */
  client: ClientConfig;
  channel: string;
  warn: (message: string) => void;
  /** Every study id, read after a reconnect: whatever changed while deaf is announced, so no watcher misses it. */
  resync: () => Promise<string[]>;
  /** Names the database in warnings (password redacted). */
  where: string;
}

const RETRY_MS = { first: 250, max: 5000 };

/**
 * Holds the LISTEN connection only while someone listens: the first subscriber opens it, the last one's
 * unsubscribe closes it, so a CLI that stops watching can exit. A pooled connection would not do: LISTEN belongs
 * to a session, and the pool hands sessions to other callers. Reconnect timers are unref'd, so a dropped server
 * never keeps a process alive on their account.
 */
export class ChangeFeed {
  private readonly listeners = new Set<(studyId: string) => void>();
  private client: pg.Client | null = null;
  private timer: NodeJS.Timeout | null = null;
  private delay = RETRY_MS.first;
  private ready: Promise<void> | null = null;
  /** Resolves `ready` while a reconnect is pending, also when it is called off. */
  private settle: (() => void) | null = null;
  private closed = false;

  constructor(private readonly opts: ChangeFeedOptions) {}

  subscribe(listener: (studyId: string) => void): () => void {
    if (this.closed) throw new Error('the storage is closed');
    this.listeners.add(listener);
    if (this.listeners.size === 1 && !this.client && !this.timer) this.ready = this.start(false);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  /** Resolves once notifications flow (after the first connect or the next reconnect); for tests and orderly startup. */
  async listening(): Promise<void> {
    while (this.ready && !this.closed) {
      const r = this.ready;
      // Someone waits for the reconnect on purpose: its timer must keep the process alive until then.
      this.timer?.ref();
      await r;
      if (this.ready === r) return;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    this.stop();
  }

  private async start(reconnect: boolean): Promise<void> {
    const c = new pg.Client(this.opts.client);
    this.client = c;
    c.on('notification', (n: Notification) => {
      if (this.client === c && n.payload) this.emit(n.payload);
    });
    c.on('error', (err) => this.lost(c, err));
    c.on('end', () => this.lost(c, new Error('the connection ended')));
    try {
      await c.connect();
      await c.query(`LISTEN ${this.opts.channel}`);
    } catch (err) {
      this.lost(c, err as Error);
      return;
    }
    if (this.client !== c) return;
    if (reconnect) {
      this.delay = RETRY_MS.first;
      try {
        for (const id of await this.opts.resync()) this.emit(id);
      } catch {
        // The pool is down too; its own callers will hear about it.
      }
      this.opts.warn(`${this.opts.where}: change notifications are back`);
    }
  }

  private emit(studyId: string): void {
    for (const l of [...this.listeners]) {
      try {
        l(studyId);
      } catch (err) {
        this.opts.warn(`a change listener threw: ${(err as Error).message}`);
      }
    }
  }

  private lost(c: pg.Client, err: Error): void {
    if (this.client !== c) return;
    this.client = null;
    c.removeAllListeners('end');
    c.end().catch(() => undefined);
    if (this.closed || this.listeners.size === 0) return;
    this.opts.warn(`${this.opts.where}: change notifications lost (${err.message}); reconnecting in ${this.delay} ms (changes made meanwhile are announced then)`);
    this.ready = new Promise((r) => (this.settle = r));
    this.timer = setTimeout(() => {
      this.timer = null;
      const settle = this.settle;
      this.settle = null;
      void this.start(true).then(() => settle?.());
    }, this.delay);
    this.timer.unref();
    this.delay = Math.min(this.delay * 2, RETRY_MS.max);
  }

  private stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.settle?.();
    this.settle = null;
    const c = this.client;
    this.client = null;
    if (c) {
      c.removeAllListeners('end');
      c.end().catch(() => undefined);
    }
  }
}
