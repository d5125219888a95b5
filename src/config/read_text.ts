// Reading a file the user named (a config, a schedule, a bench's data): one that cannot be read is a DataError naming it and why.
import { readFileSync } from 'node:fs';
import { DataError } from '../errors.js';

/** The file's UTF-8 text; `refusal(reason)` words the DataError when it cannot be read (reason: ENOENT, EACCES, ... or the message). */
export function readTextFile(file: string, refusal: (reason: string) => string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataError(file, refusal(code === undefined ? (err as Error).message : `${REASONS[code] ?? code}`));
  }
}

/** The codes a path given by hand meets, in words (the code kept for a search). */
const REASONS: Record<string, string> = {
  ENOENT: 'ENOENT, no such file: check the path',
  EISDIR: 'EISDIR, it is a folder: give a file in it',
  EACCES: 'EACCES, this user may not read it',
  ENOTDIR: 'ENOTDIR, a part of the path is a file, not a folder',
};
