// A storage read with a deadline: a database that hangs (a lock, a network black hole) is answered as unavailable
// within a probe's patience, never left to hold the probe until its own timeout.
import { StorageUnavailableError } from '../study/errors.js';

/** `read`, or StorageUnavailableError (503) naming `where` once it has taken `waitMs`; the late read is left to settle. */
export async function storageWithin<T>(read: Promise<T>, waitMs: number, where: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StorageUnavailableError(where, `no answer within ${waitMs / 1000} s`)), waitMs);
  });
  try {
    return await Promise.race([read, late]);
  } finally {
    clearTimeout(timer);
    read.catch(() => undefined);
  }
}
