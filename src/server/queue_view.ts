// GET /api/queue: who is on the study queue right now (coordinators, workers with their slots and the trials they
// hold, jobs), for the dashboard's landing page; what `renorm-tune queue --db` prints, served by `serve --redis`.
import type { QueueStatus } from '../distributed/status.js';
import { QueueWatch } from '../distributed/status.js';
import type { RedisRef } from '../distributed/redis.js';
import { isConnectionError } from '../distributed/outage.js';
import type { Storage } from '../study/types.js';
import { CLI } from '../shared/names.js';
import { HttpError } from './http_errors.js';
import { within } from './deadline.js';

/** How long a look at the queue waits for Redis (and the database) before answering 503: the page looks again soon. */
export const QUEUE_WAIT_MS = 3000;

/** What the route reads; the server's own (ServedQueue), or a stand-in in tests. */
export interface QueueView {
  status(): Promise<QueueStatus>;
}

/**
 * GET /api/queue's body: the queue's status, or word that this server watches none (a plain answer, not a 404: the
 * dashboard asks every server, and most run without a queue).
 */
export type QueueAnswer = ({ watched: true } & QueueStatus) | { watched: false; message: string };

/** What GET /api/queue answers on a server given `queue` (or none). */
export async function queueAnswer(queue: QueueView | undefined): Promise<QueueAnswer> {
  if (!queue) return { watched: false, message: `this server watches no queue: start \`${CLI} serve\` with --redis <url> (and --redis-prefix if the queue has one) to see its workers here` };
  return { watched: true, ...(await queue.status()) };
}

/**
 * A queue watched for the server, over connections kept open: looks that overlap share one, and a Redis (or database)
 * that does not answer within `waitMs` is a 503 naming it, while the rest of the API goes on.
 */
export class ServedQueue implements QueueView {
  private readonly watch: QueueWatch;
  private pending: Promise<QueueStatus> | undefined;

  constructor(ref: RedisRef, private readonly storage: Storage, private readonly waitMs = QUEUE_WAIT_MS) {
    this.watch = new QueueWatch(ref);
  }

  status(): Promise<QueueStatus> {
    // Looks that overlap (several pages open, a scrape) share one read of Redis and the database.
    this.pending ??= this.watch.status(this.storage).finally(() => (this.pending = undefined));
    const where = this.watch.ref.where;
    const late = () => new HttpError(503, 'QUEUE_UNAVAILABLE', `no answer within ${this.waitMs / 1000} s from the queue's Redis at ${where} (or from the database, for the trials each worker holds); the studies are served as before (fix: start Redis, or check the --redis given to serve)`);
    return within(this.pending, this.waitMs, late).catch((err: unknown) => {
      throw redisFailed(err) ? unavailable(where, (err as Error).message.split('\n')[0]!.replace(this.watch.ref.url, where)) : err;
    });
  }

  close(): Promise<void> {
    return this.watch.close();
  }
}

/** ioredis's failures: a lost or refused connection, its retries spent, or a reply refusing us (a wrong password). */
function redisFailed(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return isConnectionError(err) || name === 'MaxRetriesPerRequestError' || name === 'ReplyError';
}

function unavailable(where: string, why: string): HttpError {
  return new HttpError(503, 'QUEUE_UNAVAILABLE', `the queue's Redis at ${where} is unreachable (${why}); the studies are served as before (fix: start Redis, or check the --redis given to serve)`);
}
