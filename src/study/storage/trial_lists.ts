// A store's per-study copy of the trial listing (PostgreSQL and SQLite), brought up to date from the rows changed since it was read (trials.rev, migration 4 of each).
import type { TrialRecord } from '../types.js';

/** A trial as listed, with the study revision of its last change. */
export interface ListedTrial {
  record: TrialRecord;
  rev: number;
}

interface StudyList {
  /** The study revision the copy is complete up to. */
  revision: number;
  byId: Map<number, ListedTrial>;
  ordered: TrialRecord[] | null;
}

/** Studies whose listing is kept; the least recently listed goes first. */
const KEPT_STUDIES = 32;

/**
 * Listing a study over the network costs a row per trial per ask; with this copy it costs the rows changed since
 * the last listing (plus the RUNNING ones, whose lease a heartbeat moves without a revision). Records handed out
 * are frozen, since every caller shares them.
 */
export class TrialLists {
  private readonly studies = new Map<string, StudyList>();

  /** The revision to read changes after (-1: read everything). */
  since(studyId: string): number {
    return this.studies.get(studyId)?.revision ?? -1;
  }

  /**
   * Merges rows read at study revision `revision` (changed since `since(studyId)` at read time, or RUNNING) and
   * returns the listing in number order. Concurrent readers may merge out of order: per trial the newer change
   * wins, and among equal changes the later read (a fresher lease expiry).
   */
  merge(studyId: string, revision: number, changed: ListedTrial[]): TrialRecord[] {
    let list = this.studies.get(studyId);
    if (!list) list = { revision: -1, byId: new Map(), ordered: null };
    this.studies.delete(studyId);
    this.studies.set(studyId, list);
    if (this.studies.size > KEPT_STUDIES) this.studies.delete(this.studies.keys().next().value!);
    const fresher = revision >= list.revision;
    for (const t of changed) {
      const had = list.byId.get(t.record.id);
      if (had && (had.rev > t.rev || (had.rev === t.rev && !fresher))) continue;
      list.byId.set(t.record.id, { record: freeze(t.record), rev: t.rev });
      list.ordered = null;
    }
    list.revision = Math.max(list.revision, revision);
    list.ordered ??= [...list.byId.values()].map((t) => t.record).sort((a, b) => a.number - b.number);
    return list.ordered.slice();
  }

  forget(studyId: string): void {
    this.studies.delete(studyId);
  }
}

function freeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  for (const v of Object.values(value)) freeze(v);
  return Object.freeze(value);
}
