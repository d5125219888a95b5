// Notices that the SQLite file (or its -wal) this process holds open was deleted or replaced (rm, mv over it): every later write would land in a file nobody can open again.
import { statSync } from 'node:fs';

type Identity = { dev: number; ino: number };

function identity(path: string): Identity | null {
  try {
    const s = statSync(path);
    return { dev: s.dev, ino: s.ino };
  } catch {
    return null;
  }
}

/**
 * The database file's identity when opened, and its -wal's once seen (SQLite makes the -wal on first use and keeps it
 * while any connection is open, so one that vanishes or changes under an open connection was removed by someone).
 */
export class FileIdentity {
  private readonly db: Identity | null;
  private wal: Identity | null;

  constructor(private readonly file: string) {
    this.db = identity(file);
    this.wal = identity(`${file}-wal`);
  }

  /** Null while both are the files opened; else which one went, and how. */
  lost(): string | null {
    const now = identity(this.file);
    if (this.db && !now) return 'was deleted';
    if (this.db && now && (now.ino !== this.db.ino || now.dev !== this.db.dev)) return 'was replaced by another file';
    const wal = identity(`${this.file}-wal`);
    if (this.wal === null) {
      this.wal = wal;
      return null;
    }
    if (!wal) return 'lost its -wal file (deleted)';
    if (wal.ino !== this.wal.ino || wal.dev !== this.wal.dev) return 'had its -wal file replaced';
    return null;
  }
}
