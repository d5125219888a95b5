// A study's trials for the lean view (curves=top): every trial, but the curves only of those the study page draws
// (src/shared/charted.ts), so the view of a study with long curves stays small; GET /trials/:n has any other's.
import { OPEN_STATES } from '../../shared/attempts.js';
import { curveTrials } from '../../shared/charted.js';
import type { Storage, StudyRecord, TrialRecord } from '../types.js';

/** The study's trials, the others' `intermediate` empty, and the ids of those whose curves are in. */
export async function trialsWithDrawnCurves(storage: Storage, study: StudyRecord): Promise<{ trials: TrialRecord[]; withCurves: number[] }> {
  // Records a store lists are read-only (shared frozen copies): those with curves are new ones.
  const listed = await storage.listTrials(study.id, { withIntermediate: false });
  const drawn = curveTrials(listed, study.direction);
  // The unfinished ones in one read; a charted trial (or one that finished meanwhile) one at a time: about ten.
  const curves = new Map((await storage.listTrials(study.id, { states: OPEN_STATES })).map((t) => [t.id, t.intermediate]));
  for (const t of drawn) if (!curves.has(t.id)) curves.set(t.id, (await storage.getTrial(study.id, t.id))?.intermediate ?? []);
  const withCurves = drawn.map((t) => t.id);
  const sent = new Set(withCurves);
  return { trials: listed.map((t) => (sent.has(t.id) ? { ...t, intermediate: curves.get(t.id) ?? [] } : t)), withCurves };
}
