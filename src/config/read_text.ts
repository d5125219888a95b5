// Reading a file the user named (a config, a schedule, a bench's data): one that cannot be read is a DataError naming it and why.
import { readFileSync } from 'node:fs';
import { DataError } from '../errors.js';

/** The file's UTF-8 text; `refusal(reason)` words the DataError when it cannot be read (reason: ENOENT, EACCES, ... or the message). */
export function readTextFile(file: string, refusal: (reason: string) => string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new DataError(file, refusal((err as NodeJS.ErrnoException).code ?? (err as Error).message));
  }
}
