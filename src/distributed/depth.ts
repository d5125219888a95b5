// How many search trials a coordinator keeps in flight, and its advice when no worker is there to train them.
import { CLI } from '../shared/names.js';
import type { Presence } from './presence.js';

/** How many search trials to keep in flight: fixed, or the live workers' slots. */
export class Depth {
  private last = 1;
  private noWorkersSince: number | undefined;
  /** Said for the current stretch without workers (a new stretch, after workers came and all went, is said again). */
  private advised = false;
  private hadWorkers = false;

  constructor(
    private readonly presence: Pick<Presence, 'workers'>,
    private readonly fixed: number | undefined,
    private readonly log: ((line: string) => void) | undefined,
    private readonly flags: string,
    private readonly now: () => number = Date.now,
  ) {}

  async value(): Promise<number> {
    let slots: number;
    try {
      slots = (await this.presence.workers()).reduce((n, w) => n + w.slots, 0);
    } catch {
      // Redis is away for a moment: keep the last known size rather than stall the study.
      slots = this.last;
    }
    this.last = slots;
    if (slots > 0) {
      this.noWorkersSince = undefined;
      this.advised = false;
      this.hadWorkers = true;
    } else if ((this.noWorkersSince ??= this.now()) < this.now() - 5000 && !this.advised) {
      this.advised = true;
      const start = `start \`${CLI} worker --db <same database>${this.flags}\` on each training machine`;
      // Workers leave at idle only when no coordinator is alive: these were stopped, killed or lost their machine.
      this.log?.(this.hadWorkers ? `[queue] every worker has left (stopped, killed, or its machine lost): nothing trains until one comes; ${start}` : `[queue] no worker has announced itself yet: ${start}`);
    }
    return this.fixed ?? Math.max(1, slots);
  }
}
