// Questions about a path that several commands ask before they open or write it.
import { statSync } from 'node:fs';

/** Whether `path` exists and is a folder. */
export function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
