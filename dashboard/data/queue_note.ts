// The study page's word on the queue, for a study whose coordinator is alive on the queue the server watches but has
// no worker to hand its trials to: nothing else on the page says why they do not move.
import type { QueueAnswer } from '../../src/server/queue_view.js';
import { CLI } from '../../src/shared/names.js';

/** The note for study `studyId`, or null when it needs none (no queue watched, no coordinator of it alive, workers there). */
export function studyQueueNote(answer: QueueAnswer, studyId: string): string | null {
  if (!answer.watched) return null;
  const coordinator = answer.coordinators.find((c) => c.studyId === studyId);
  if (!coordinator || answer.workers.some((w) => !w.otherBuild)) return null;
  const start = `Start \`${CLI} worker --db <this database> --redis ${answer.redis} --redis-prefix ${answer.prefix}\` on a training machine.`;
  const others = answer.workers.length;
  return others
    ? `No worker of renorm-tune ${coordinator.version} is on the queue: the ${others === 1 ? 'one there runs' : `${others} there run`} another version and take${others === 1 ? 's' : ''} none of this study's trials, which wait. ${start}`
    : `No worker is alive on the queue (${answer.redis}, prefix '${answer.prefix}'): this study's coordinator hands out trials, and they wait. ${start}`;
}
