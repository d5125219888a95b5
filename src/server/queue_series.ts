// The queue's series of a /metrics scrape, for a server that watches one (`serve --redis`): whether Redis answered,
// the jobs by state, the live workers (of this build and of another, which take none of its trials), their slots,
// the coordinators, and the trials no live worker holds. Alerting rules watch a queue whose trials wait with no
// worker alive, which no study series shows (its trials go back to WAITING, nothing RUNNING stalls).
import type { QueueStatus } from '../distributed/status.js';
import { Family } from './study_series.js';

/** What a scrape read from the queue: its status, or undefined when Redis did not answer in time. */
export interface QueueRead {
  status: QueueStatus | undefined;
  seconds: number;
}

/** The queue's families, as the text of an exposition (families apart by a blank line, ending in a line feed). */
export function queueSeries({ status, seconds }: QueueRead): string {
  const up = new Family('queue_up', 'Whether the queue\'s Redis answered this scrape (1) or not (0)');
  up.add('', status ? 1 : 0);
  const took = new Family('queue_read_seconds', 'Time this scrape took to read the queue');
  took.add('', seconds);
  const families = [up, took];
  if (status) {
    const jobs = new Family('queue_jobs', 'Jobs on the queue: waiting for a worker, taken by one, delayed');
    for (const state of ['waiting', 'active', 'delayed'] as const) jobs.add(`state="${state}"`, status.jobs[state]);
    const workers = new Family('queue_workers', 'Live workers on the queue, of this renorm-tune build (they take its trials) and of another (refused)');
    const mine = status.workers.filter((w) => !w.otherBuild).length;
    workers.add('build="this"', mine);
    workers.add('build="other"', status.workers.length - mine);
    const slots = new Family('queue_slots', 'Trials the live workers of this build train at once, summed');
    slots.add('', status.slots);
    const coordinators = new Family('queue_coordinators', 'Live coordinators on the queue (one per study being run)');
    coordinators.add('', status.coordinators.length);
    families.push(jobs, workers, slots, coordinators);
    if (status.orphans) {
      const unheld = new Family('queue_trials_unheld', 'RUNNING trials whose lease owner is no live worker (gone or frozen): each goes back to the queue when its lease runs out');
      unheld.add('', status.orphans.length);
      families.push(unheld);
    }
  }
  return `${families.map((f) => f.text()).join('\n\n')}\n`;
}
