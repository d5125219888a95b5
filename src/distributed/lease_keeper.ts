// Keeps one claimed trial's database lease alive while a worker trains it, and says when to stop (lease lost, study stopped).
import { beatEnds } from '../study/errors.js';
import type { StudyService } from '../study/service.js';

export type StopReason = 'lease lost' | 'study stopped' | 'study deleted';

/**
 * Renews every third of the lease, like the local runner's heartbeat, so two missed beats still leave the lease
 * standing. A lost lease (this worker was presumed dead and the trial went to another), a study no longer RUNNING
 * (its coordinator was stopped with Ctrl-C) or a study deleted calls `onStop` once; the caller cancels the run.
 * (A deleted study's reports fail too, but a run goes on through a failed report: without this a GPU would train a
 * deleted study's trial to its end.)
 */
export class LeaseKeeper {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly service: StudyService,
    private readonly studyId: string,
    private readonly trialId: number,
    private readonly token: number,
    private readonly seconds: number,
    private readonly onStop: (why: StopReason) => void,
  ) {}

  start(): this {
    this.timer = setInterval(() => void this.beat(), (this.seconds * 1000) / 3);
    this.timer.unref();
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async beat(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.service.renewLease(this.studyId, this.trialId, this.token, this.seconds);
      if ((await this.service.resolve(this.studyId)).state !== 'RUNNING') this.halt('study stopped');
    } catch (err) {
      const ends = beatEnds(err);
      // Anything else (the database away for a moment): the next beat tries again; the lease has two more to spare.
      if (ends) this.halt(ends);
    }
  }

  private halt(why: StopReason): void {
    if (this.stopped) return;
    this.stopped = true;
    this.stop();
    this.onStop(why);
  }
}
