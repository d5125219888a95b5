// `export --out FILE`: a file written whole or not at all, and never over a database.
import { closeSync, lstatSync, mkdtempSync, openSync, readSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { DataError } from '../errors.js';
import { isFolder } from '../files.js';

/** The first bytes of a SQLite database, and of its write-ahead log (either byte order). */
const SQLITE_MAGIC = [Buffer.from('SQLite format 3\0', 'latin1'), Buffer.from([0x37, 0x7f, 0x06, 0x82]), Buffer.from([0x37, 0x7f, 0x06, 0x83])];
/** The files SQLite keeps beside a database: it deletes or rewrites them on its own. */
const COMPANIONS = ['-wal', '-shm', '-journal'];

/** What `path` holds, read from its header (names prove nothing): none, a SQLite database or WAL, something else, or unreadable. */
function sqliteHeader(path: string): 'none' | 'sqlite' | 'other' | 'unreadable' {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    return (err as { code?: string }).code === 'ENOENT' ? 'none' : 'unreadable';
  }
  try {
    const head = Buffer.alloc(16);
    const n = readSync(fd, head, 0, 16, 0);
    return SQLITE_MAGIC.some((m) => n >= m.length && head.subarray(0, m.length).equals(m)) ? 'sqlite' : 'other';
  } finally {
    closeSync(fd);
  }
}

/** `path`, or the file it links to: a link is written through, not replaced by a plain file. */
function throughLink(path: string): string {
  try {
    return lstatSync(path).isSymbolicLink() ? realpathSync(path) : path;
  } catch {
    return path;
  }
}

/** Temp file in the target's folder, then rename: a reader never sees half a file, and a crash leaves the old one. */
export function writeFileAtomic(path: string, text: string): void {
  if (path === '') throw new DataError('--out', 'is empty (fix: give a file name, e.g. best-schedule.json, or leave --out out for stdout)');
  const target = throughLink(resolve(path));
  // Said up front: the temp folder's made-up name in mkdtemp's ENOENT would only confuse.
  const folder = dirname(target);
  if (!isFolder(folder)) throw new DataError(path, `cannot write it: the folder ${folder} does not exist (create it first, or write somewhere else)`);
  if (isFolder(target)) throw new DataError(path, `cannot write it: it is a folder (give a file name, e.g. ${join(path, 'best-schedule.json')})`);
  // A slip of --out onto --db would replace every study with one JSON file; one this user cannot read may be one.
  const head = sqliteHeader(target);
  if (head === 'sqlite') throw new DataError(path, 'cannot write it: it is a SQLite database (or its -wal file), left as it was (fix: give another --out, e.g. best-schedule.json)');
  if (head === 'unreadable') throw new DataError(path, 'cannot write it: it exists and this user cannot read it, so it cannot be checked not to be a database; left as it was (fix: give another --out, or remove the file first)');
  // Beside a database SQLite deletes it on close (a -wal), or reads it as the database's own (a -journal).
  const companion = COMPANIONS.find((c) => target.endsWith(c) && sqliteHeader(target.slice(0, -c.length)) === 'sqlite');
  if (companion) throw new DataError(path, `cannot write it: it is the ${companion.slice(1)} file of the SQLite database ${target.slice(0, -companion.length)}, which SQLite manages (fix: give another --out, e.g. best-schedule.json)`);
  let tmpDir: string;
  try {
    tmpDir = mkdtempSync(join(folder, `.${basename(target)}.tmp-`));
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') throw new DataError(path, `cannot write it: this user cannot create files in ${folder} (${code}) (fix: write somewhere writable, e.g. your home folder)`);
    throw err;
  }
  const tmp = join(tmpDir, 'data');
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, target);
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
  }
}
