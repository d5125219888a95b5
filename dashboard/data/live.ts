// Applies the server's incremental live events to the study the page holds, so a stream never forces a refetch of the whole study.
import { curveRestarted } from '../../src/shared/attempts.js';
import { tally } from '../../src/shared/summary.js';
import type { StudyEvent, StudyView } from '../types.js';

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
      const i = view.trials.findIndex((t) => t.id === event.trial.id);
      const was = i >= 0 ? view.trials[i]! : undefined;
      if (was) view.trials[i] = { ...event.trial, intermediate: curveRestarted(was, event.trial) ? [] : was.intermediate };
      else view.trials.push({ ...event.trial, intermediate: [] });
      view.trials.sort((a, b) => a.number - b.number);
      Object.assign(view, tally(view.trials, view.direction));
      return true;
    }
    case 'report': {
      const t = view.trials.find((x) => x.id === event.trialId);
      if (!t) return false;
      const at = t.intermediate.findIndex((p) => p.step >= event.point.step);
      // The store keeps the first value of a step: so does the page.
      if (at >= 0 && t.intermediate[at]!.step === event.point.step) return true;
      if (at < 0) t.intermediate.push(event.point);
      else t.intermediate.splice(at, 0, event.point);
      return true;
    }
    case 'deleted':
      // Nothing to apply, and nothing left to fetch: the page says so and keeps what it shows.
      return true;
    default:
      return false;
  }
}
