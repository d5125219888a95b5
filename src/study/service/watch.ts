// Notices changes other processes make to a watched study, by polling the storage's change stamp while anyone listens.
//
// Why polling: SQLite has no cross-process notifications, and `renorm-tune serve` must show a study that a separate
// `renorm-tune run` is writing. One indexed read per watched study per second is cheap, and nothing runs while no
// one listens. Changes made through this process are noted as they are emitted (`noteLocal`), so they are not
// reported a second time by the poll.
import type { Storage } from '../types.js';

export const DEFAULT_WATCH_INTERVAL_MS = 1000;

interface Watched {
  listeners: number;
  stamp: number | undefined;
}

export class ChangeWatcher {
  private readonly studies = new Map<string, Watched>();
  private timer: ReturnType<typeof setInterval> | undefined;

  /** `intervalMs` 0 turns polling off (in-process events only). */
  constructor(
    private readonly storage: Pick<Storage, 'changeStamp'>,
    private readonly onForeignChange: (studyId: string) => void,
    private readonly intervalMs = DEFAULT_WATCH_INTERVAL_MS,
  ) {}

  /** Counts listeners per study; returns the stop function (idempotent). The timer runs only while some study is watched. */
  watch(studyId: string): () => void {
    if (this.intervalMs <= 0) return () => {};
    let w = this.studies.get(studyId);
    if (!w) this.studies.set(studyId, (w = { listeners: 0, stamp: this.read(studyId) }));
    w.listeners++;
    this.timer ??= setInterval(() => this.poll(), this.intervalMs);
    // A live stream must not keep a CLI or a test process alive.
    this.timer.unref();
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      if (--w.listeners > 0) return;
      if (this.studies.get(studyId) === w) this.studies.delete(studyId);
      if (this.studies.size === 0) this.stop();
    };
  }

  /** Called as this process emits an event for `studyId`: its change is already announced, so absorb it. */
  noteLocal(studyId: string): void {
    const w = this.studies.get(studyId);
    if (w) w.stamp = this.read(studyId);
  }

  get watching(): number {
    return this.studies.size;
  }

  /** Clears the timer whatever is watched (the service is shutting down). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private poll(): void {
    for (const [studyId, w] of this.studies) {
      const stamp = this.read(studyId);
      if (stamp === undefined || stamp === w.stamp) continue;
      w.stamp = stamp;
      try {
        this.onForeignChange(studyId);
      } catch {
        // A timer callback has no caller to tell; the next change (or the subscriber's own refetch) catches up.
      }
    }
  }

  /** undefined when the store is closed or the study is gone: then there is nothing to report, and no reason to throw from a timer. */
  private read(studyId: string): number | undefined {
    try {
      return this.storage.changeStamp(studyId);
    } catch {
      return undefined;
    }
  }
}
