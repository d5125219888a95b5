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
  /** Each trial's latest listing. */
  byId: Map<number, ListedTrial>;
  /** By number. */
  ordered: TrialRecord[];
}

/** Studies whose listing is kept; the least recently listed goes first. */
const KEPT_STUDIES = 32;

/**
 * Listing a study costs a row per trial per ask (over the network for PostgreSQL; 100,000 rows took SQLite seconds);
 * with this copy it costs the rows changed since the last listing (plus the RUNNING ones, whose lease a heartbeat
 * moves without a revision). Records handed out are frozen, since every caller shares them.
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
    if (!list) list = { revision: -1, byId: new Map(), ordered: [] };
    this.studies.delete(studyId);
    this.studies.set(studyId, list);
    if (this.studies.size > KEPT_STUDIES) this.studies.delete(this.studies.keys().next().value!);
    const fresher = revision >= list.revision;
    const fresh = new Map<number, ListedTrial>();
    for (const t of changed) {
      const had = list.byId.get(t.record.id);
      // The same trial twice in one read (a store that reads changes and RUNNING trials apart): the later one, as ever.
      const seen = had ?? fresh.get(t.record.id);
      if (seen && (seen.rev > t.rev || (seen.rev === t.rev && !fresher))) continue;
      const record = freeze(t.record);
      if (had) {
        // A change in place: a trial keeps its number, so it keeps its place.
        list.byId.set(t.record.id, { record, rev: t.rev });
        list.ordered[placeOf(list.ordered, record.number)] = record;
      } else {
        fresh.set(t.record.id, { record, rev: t.rev });
      }
    }
    if (fresh.size > 0) {
      // New trials take the next numbers, so they usually go at the end; anything else is sorted in.
      const added = [...fresh.values()].sort((a, b) => a.record.number - b.record.number);
      for (const t of added) list.byId.set(t.record.id, t);
      const last = list.ordered[list.ordered.length - 1];
      if (last === undefined || added[0]!.record.number > last.number) for (const t of added) list.ordered.push(t.record);
      else list.ordered = [...list.ordered, ...added.map((t) => t.record)].sort((a, b) => a.number - b.number);
    }
    list.revision = Math.max(list.revision, revision);
    return list.ordered.slice();
  }

  forget(studyId: string): void {
    this.studies.delete(studyId);
  }
}

/** The index of the trial numbered `number` in `ordered` (sorted by number, where it is). */
function placeOf(ordered: readonly TrialRecord[], number: number): number {
  let lo = 0;
  let hi = ordered.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ordered[mid]!.number < number) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Deep-freezes a record for sharing; one already frozen (a store may freeze as it reads, a page at a time) costs nothing. */
export function freeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  for (const v of Object.values(value)) freeze(v);
  return Object.freeze(value);
}
