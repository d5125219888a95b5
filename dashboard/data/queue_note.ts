// What the dashboard says of a queue whose coordinators hand out trials that no worker of their version can take:
// on the landing page's panel, and on the page of each such study, where nothing else says why its trials wait.
import type { QueueStatus } from '../../src/distributed/status.js';
import type { QueueAnswer } from '../../src/server/queue_view.js';
import { CLI } from '../../src/shared/names.js';

/** The worker command for this queue, as the note gives it. */
function startWorker(s: QueueStatus): string {
  return `Start \`${CLI} worker --db <this database> --redis ${s.redis} --redis-prefix ${s.prefix}\` on a training machine.`;
}

/** The landing panel's warning: a coordinator alive and no worker of this build; null when none is needed. */
export function queueWarning(s: QueueStatus): string | null {
  if (!s.coordinators.length || s.workers.some((w) => !w.otherBuild)) return null;
  const waiting = `${s.jobs.waiting} trial${s.jobs.waiting === 1 ? '' : 's'} wait${s.jobs.waiting === 1 ? 's' : ''}`;
  const others = s.workers.length;
  return others
    ? `No worker of this version is alive: the ${others === 1 ? 'one there runs' : `${others} there run`} another version, and ${waiting}. ${startWorker(s)}`
    : `No worker is alive on this queue, and ${waiting}. ${startWorker(s)}`;
}

/** The note for study `studyId`, or null when it needs none (no queue watched, no coordinator of it alive, workers there). */
export function studyQueueNote(answer: QueueAnswer, studyId: string): string | null {
  if (!answer.watched) return null;
  const coordinator = answer.coordinators.find((c) => c.studyId === studyId);
  if (!coordinator || answer.workers.some((w) => !w.otherBuild)) return null;
  const others = answer.workers.length;
  return others
    ? `No worker of renorm-tune ${coordinator.version} is on the queue: the ${others === 1 ? 'one there runs' : `${others} there run`} another version and take${others === 1 ? 's' : ''} none of this study's trials, which wait. ${startWorker(answer)}`
    : `No worker is alive on the queue (${answer.redis}, prefix '${answer.prefix}'): this study's coordinator hands out trials, and they wait. ${startWorker(answer)}`;
}
