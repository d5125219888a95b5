// Notices changes to a watched study, other processes' included: pushed by the storage (PostgreSQL LISTEN/NOTIFY) or polled by change stamp (SQLite).
//
// Why both: SQLite has no cross-process notifications, and `renorm-tune serve` must show a study that a separate
// `renorm-tune run` is writing, so there one indexed read per watched study per second stands in for them; nothing
// runs while no one listens. Either way a change is judged by the study's change stamp. Every change is reported,
// this process's own too: absorbing those by stamp would also swallow another process's change that came just
// before one. What changed, and whether it was told already, is the listener's to find out (./foreign_events.ts).
import type { Storage } from '../types.js';

export const DEFAULT_WATCH_INTERVAL_MS = 1000;
const GONE = Symbol('gone');

/** Told of each watched study's changes; `begin` and `end` bracket the time a study is watched at all. */
export interface StudyChangeListener {
  /** Before the study's first change can be reported (its stamp is read first, so no change falls between). */
  begin?(studyId: string): Promise<void>;
  changed(studyId: string): void;
  /** The study no longer exists (deleted by this process or another); it is no longer watched. */
  gone?(studyId: string): void;
  end?(studyId: string): void;
}

interface Watched {
  listeners: number;
  stamp: number | undefined;
  /** The stamp read and the listener's `begin` done. */
  ready: Promise<void>;
}

export class ChangeWatcher {
  private readonly studies = new Map<string, Watched>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private unlisten: (() => void) | undefined;
  private polling = false;

  /** `intervalMs` 0 turns watching off (in-process events only). */
  constructor(
    private readonly storage: Pick<Storage, 'changeStamp' | 'onChange'>,
    private readonly listener: StudyChangeListener,
    private readonly intervalMs = DEFAULT_WATCH_INTERVAL_MS,
  ) {}

  /** Counts listeners per study; returns the stop function (idempotent). Timers and listeners exist only while some study is watched. */
  async watch(studyId: string): Promise<() => void> {
    if (this.intervalMs <= 0) return () => {};
    let w = this.studies.get(studyId);
    if (!w) {
      // Set before anything is awaited, so two first subscribers share one entry.
      const entry: Watched = { listeners: 0, stamp: undefined, ready: Promise.resolve() };
      entry.ready = (async () => {
        const first = await this.read(studyId);
        // Gone already (deleted as it was subscribed to): the first check reports it.
        entry.stamp = first === GONE ? undefined : first;
        await this.listener.begin?.(studyId);
      })();
      this.studies.set(studyId, (w = entry));
    }
    w.listeners++;
    await w.ready;
    this.start();
    let stopped = false;
    const watched = w;
    return () => {
      if (stopped) return;
      stopped = true;
      if (--watched.listeners > 0) return;
      if (this.studies.get(studyId) === watched) {
        this.studies.delete(studyId);
        this.listener.end?.(studyId);
      }
      if (this.studies.size === 0) this.stop();
    };
  }

  get watching(): number {
    return this.studies.size;
  }

  /** Clears the timer and the notification listener whatever is watched (the service is shutting down). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.unlisten?.();
    this.unlisten = undefined;
  }

  private start(): void {
    if (this.storage.onChange) {
      this.unlisten ??= this.storage.onChange((studyId) => {
        if (this.studies.has(studyId)) void this.check(studyId);
      });
      return;
    }
    this.timer ??= setInterval(() => void this.poll(), this.intervalMs);
    // A live stream must not keep a CLI or a test process alive.
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    if (this.polling) return; // a slow store: never stack polls
    this.polling = true;
    try {
      for (const studyId of [...this.studies.keys()]) await this.check(studyId);
    } finally {
      this.polling = false;
    }
  }

  private async check(studyId: string): Promise<void> {
    const w = this.studies.get(studyId);
    if (!w) return;
    await w.ready;
    const stamp = await this.read(studyId);
    if (stamp === GONE) {
      if (this.studies.get(studyId) !== w) return;
      this.studies.delete(studyId);
      if (this.studies.size === 0) this.stop();
      this.tell(() => this.listener.gone?.(studyId));
      return;
    }
    if (stamp === undefined || stamp === w.stamp) return;
    w.stamp = stamp;
    this.tell(() => this.listener.changed(studyId));
  }

  private tell(fn: () => void): void {
    try {
      fn();
    } catch {
      // A timer or notification callback has no caller to tell; the next change (or the subscriber's refetch) catches up.
    }
  }

  /**
   * GONE when the study no longer exists; undefined when the store could not say (closed, or away for a moment):
   * then there is nothing to report, and no reason to throw from a timer.
   */
  private async read(studyId: string): Promise<number | undefined | typeof GONE> {
    try {
      return await this.storage.changeStamp(studyId);
    } catch (err) {
      return (err as { code?: unknown }).code === 'NOT_FOUND' ? GONE : undefined;
    }
  }
}
