// The evidence phase after the search, as a pure plan: which race and final runs to queue next, and when it is over.
import { isEvidenceRole, roleKind } from '../shared/roles.js';
import type { StudyConfig } from './config.js';
import { isOpen } from '../shared/attempts.js';
import { baselineSources, bestRunTag, finalTrials, type FinalArm, type FinalSource } from './final.js';
import { racePicker, type FinalPicker, type PickState, type TunedPick } from './pick.js';
import type { Direction, NewTrial, TrialRecord } from './types.js';

export interface EvidencePlan {
  /** Search or baseline trials are still queued or running: nothing is planned until they finish. */
  searchOpen: boolean;
  /** Every run the evidence needs so far (keyed: the storage skips those that exist). */
  wanted: NewTrial[];
  pick: PickState;
}

/** The study's picker: racing per `finalValidation.race` (see FinalPicker for plugging in a model's recommendation). */
export function pickerFor(config: StudyConfig, direction: Direction): FinalPicker {
  const race = config.finalValidation.race;
  return racePicker({ candidates: race.candidates, seeds: race.seeds, studySeed: config.seed, direction, seedsPerTrial: config.seedsPerTrial });
}

/** What a study's evidence phase does: a race of the top tuned trials, final runs on fresh test seeds, both, or neither. */
export interface EvidenceSteps {
  /** The top `candidates` tuned trials re-measured on `seeds` fresh validation seeds each; null: no race. */
  race: { candidates: number; seeds: number } | null;
  /** The picked schedule (and the baselines, when the study has them) retrained on the same `seeds` fresh seeds; null: none. */
  finalRuns: { seeds: number; baselines: boolean } | null;
}

export function evidenceSteps(config: StudyConfig): EvidenceSteps {
  const { seeds, race } = config.finalValidation;
  return {
    race: race.candidates > 1 && race.seeds > 0 ? { candidates: race.candidates, seeds: race.seeds } : null,
    finalRuns: seeds > 0 ? { seeds, baselines: config.baselines } : null,
  };
}

/** Is there an evidence phase at all? Final validation, a race, or both. */
export function hasEvidencePhase(config: StudyConfig): boolean {
  const steps = evidenceSteps(config);
  return steps.race !== null || steps.finalRuns !== null;
}

/**
 * Once the search is over: the race runs (if racing), the baselines' final runs (they do not wait for the race),
 * and, once the race has finished, the picked schedule's final runs. Calling it again as runs finish moves the
 * phase along; each call is cheap and safe from any number of processes.
 */
export function evidencePlan(trials: readonly TrialRecord[], config: StudyConfig, picker: FinalPicker): EvidencePlan {
  const searchOpen = trials.some((t) => (roleKind(t.role) === 'search' || roleKind(t.role) === 'baseline') && isOpen(t.state));
  if (searchOpen) return { searchOpen, wanted: [], pick: { ready: false } };
  const { seeds, stepsMultipliers } = config.finalValidation;
  const wanted = picker.extraRuns(trials);
  const pick = picker.pick(trials);
  if (seeds > 0) {
    // A baseline whose search run failed is retrained too, once a tuned trial completed to compare it with.
    const tunedDone = trials.some((t) => roleKind(t.role) === 'search' && t.state === 'COMPLETE');
    const sources: Partial<Record<FinalArm, FinalSource>> = { ...baselineSources(trials, tunedDone) };
    if (pick.ready && pick.pick) sources.best = pick.pick;
    wanted.push(...finalTrials(sources, config.seed, seeds, stepsMultipliers, pick.ready && pick.pick ? bestRunTag(trials, pick.pick) : ''));
  }
  return { searchOpen, wanted, pick };
}

/** Race and final runs not finished yet. */
export function openEvidenceRuns(trials: readonly TrialRecord[]): TrialRecord[] {
  return trials.filter((t) => isEvidenceRole(t.role) && isOpen(t.state));
}

/** What attrs.finalValidationSource records of a pick: the trial behind the `best` arm and how it was chosen. */
export interface PickRecord {
  best: number | null;
  trialNumber?: number | null;
  pickedBy?: string;
  estimate?: number | null;
  runs?: number;
  /** How many search trials had finished when it was picked: a study extended since has more, and picks again. */
  searched?: number;
}

export function pickRecord(p: TunedPick | null, searched: number): PickRecord {
  return p ? { best: p.trialId, trialNumber: p.trialNumber, pickedBy: p.pickedBy, estimate: p.estimate, runs: p.runs, searched } : { best: null, searched };
}

/** Finished search trials: what a pick is made from. */
export function searchedCount(trials: readonly TrialRecord[]): number {
  return trials.filter((t) => roleKind(t.role) === 'search' && (t.state === 'COMPLETE' || t.state === 'PRUNED' || t.state === 'FAIL')).length;
}

/**
 * How many search trials had finished when `record` was picked. A record written before it kept the count is dated
 * by the evidence runs it caused: the search trials numbered below the first of them (an extension's come after).
 */
export function searchedWhenPicked(record: PickRecord, trials: readonly TrialRecord[]): number {
  if (record.searched !== undefined) return record.searched;
  const first = trials.reduce((m, t) => (isEvidenceRole(t.role) ? Math.min(m, t.number) : m), Infinity);
  if (first === Infinity) return searchedCount(trials);
  return searchedCount(trials.filter((t) => t.number < first));
}
