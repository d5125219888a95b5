// A read with a deadline: a database or Redis that hangs (a lock, a network black hole, a client that queues its
// commands until the server is back) is answered as unavailable within a probe's patience, never left to hold the
// request until its own timeout.
import { StorageUnavailableError } from '../study/errors.js';

/** `read`, or the error `late()` makes once it has taken `waitMs`; the late read is left to settle. */
export async function within<T>(read: Promise<T>, waitMs: number, late: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(late()), waitMs);
  });
  try {
    return await Promise.race([read, deadline]);
  } finally {
    clearTimeout(timer);
    read.catch(() => undefined);
  }
}

/** `read`, or StorageUnavailableError (503) naming `where` once it has taken `waitMs`. */
export function storageWithin<T>(read: Promise<T>, waitMs: number, where: string): Promise<T> {
  return within(read, waitMs, () => new StorageUnavailableError(where, `no answer within ${waitMs / 1000} s`));
}
