// Finds a trial by its visible number (`#n`, what people and the REST routes use) without reading the whole study on every report.
import type { TrialSpan } from '../errors.js';
import type { TrialRecord } from '../types.js';

/**
 * A trial named by its number within its study (`{number: 7}`: `#7`, what the REST routes take), or by its
 * storage id (a plain number: what runners and workers hold).
 */
export type TrialRef = number | { number: number };

/**
 * number -> id per study. Both never change once a trial exists, so entries never go stale; a number not seen yet
 * (a trial another process created) costs one indexed read of the store, then is remembered.
 */
export class TrialNumbers {
  private readonly byStudy = new Map<string, Map<number, number>>();

  async idOf(studyId: string, number: number, find: () => Promise<number | undefined>): Promise<number | undefined> {
    const hit = this.byStudy.get(studyId)?.get(number);
    if (hit !== undefined) return hit;
    const id = await find();
    if (id !== undefined) this.remember(studyId, [{ id, number }]);
    return id;
  }

  /** The numbers known for the study (all of them once its listing was remembered), or null for none. */
  span(studyId: string): TrialSpan | null {
    const ids = this.byStudy.get(studyId);
    if (!ids || ids.size === 0) return null;
    let first = Infinity;
    let last = -Infinity;
    for (const n of ids.keys()) {
      first = Math.min(first, n);
      last = Math.max(last, n);
    }
    return { count: ids.size, first, last };
  }

  /** Trials this process just created or handed out: their numbers are known without a listing. */
  remember(studyId: string, trials: readonly Pick<TrialRecord, 'id' | 'number'>[]): void {
    let ids = this.byStudy.get(studyId);
    if (!ids) this.byStudy.set(studyId, (ids = new Map()));
    for (const t of trials) ids.set(t.number, t.id);
  }

  /** A deleted study's numbers (its id is never reused, but its memory should go). */
  forget(studyId: string): void {
    this.byStudy.delete(studyId);
  }
}
