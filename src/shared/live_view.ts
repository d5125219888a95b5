// Applies the server's incremental live events to a study view held by a viewer (the dashboard), so a stream never forces a refetch of the whole study; browser-safe.
import { curveRestarted, olderThan } from './attempts.js';
import { retally, tally, type TrialTally } from './summary.js';
import type { StudyEvent, StudyView } from '../study/api_types.js';
import type { TrialRecord } from '../study/types.js';

/**
 * What the page keeps beside a view's trial list, so that an event costs a lookup, not a scan, sort and tally of
 * every trial (0.9 ms median per event at 100,000 trials in `bench service`; now about 1 µs): each trial's index by
 * id, and the list's tally. A trial placed before others (out of number order, rare) re-indexes the list. Keyed by
 * the list itself, so a refetched view starts afresh.
 */
interface Index {
  at: Map<number, number>;
  tally: TrialTally;
}
const indexes = new WeakMap<TrialRecord[], Index>();

function indexOf(view: StudyView): Index {
  let index = indexes.get(view.trials);
  if (!index) {
    const at = new Map<number, number>();
    view.trials.sort((a, b) => a.number - b.number);
    view.trials.forEach((t, i) => at.set(t.id, i));
    index = { at, tally: tally(view.trials, view.direction) };
    indexes.set(view.trials, index);
  }
  return index;
}

/** Where a trial numbered `number` goes in `trials` (sorted by number): after every lower number. */
function insertionPoint(trials: readonly TrialRecord[], number: number): number {
  let lo = 0;
  let hi = trials.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (trials[mid]!.number < number) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Applies `event` to `view` in place. Returns false when the page must refetch instead: another process changed
 * the study (`refetch`), or the event names a trial the page does not hold yet and cannot build from the event.
 */
export function applyEvent(view: StudyView, event: StudyEvent): boolean {
  if (event.studyId !== view.id) return true;
  switch (event.type) {
    case 'study':
      if (event.refetch) return false;
      view.state = event.state;
      if (event.results) Object.assign(view, event.results);
      return true;
    case 'trial': {
      const index = indexOf(view);
      const i = index.at.get(event.trial.id);
      const was = i === undefined ? undefined : view.trials[i]!;
      // An event the page has already seen overtaken (sent before the view it fetched was read, and arrived after):
      // applied, it would show a finished trial running again.
      if (was && olderThan(event.trial, was)) return true;
      const now = { ...event.trial, intermediate: was && !curveRestarted(was, event.trial) ? was.intermediate : [] };
      if (i !== undefined) view.trials[i] = now;
      else {
        const to = insertionPoint(view.trials, now.number);
        view.trials.splice(to, 0, now);
        // A new trial is nearly always the last; one placed before others moves their indexes.
        if (to === view.trials.length - 1) index.at.set(now.id, to);
        else view.trials.forEach((t, k) => index.at.set(t.id, k));
      }
      index.tally = retally(index.tally, was, now, view.trials, view.direction);
      Object.assign(view, index.tally);
      return true;
    }
    case 'report': {
      const i = indexOf(view).at.get(event.trialId);
      if (i === undefined) return false;
      const curve = view.trials[i]!.intermediate;
      const { step } = event.point;
      // Points come in step order: the common case is a push.
      if (curve.length === 0 || curve[curve.length - 1]!.step < step) {
        curve.push(event.point);
        return true;
      }
      const at = curve.findIndex((p) => p.step >= step);
      // The store keeps the first value of a step: so does the page.
      if (curve[at]!.step !== step) curve.splice(at, 0, event.point);
      return true;
    }
    case 'deleted':
      // Nothing to apply, and nothing left to fetch: the page says so and keeps what it shows.
      return true;
    default:
      return false;
  }
}
