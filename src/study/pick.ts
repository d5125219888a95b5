// Which tuned schedule goes to final validation: a small plug point (FinalPicker), with racing as the default.
import type { ScheduleSpec } from '../schedule/types.js';
import { rankTrials } from '../shared/best.js';
import type { Direction } from '../shared/names.js';
import { raceOf, raceRole, roleKind } from '../shared/roles.js';
import { raceSeed } from './seeds.js';
import type { NewTrial, Params, TrialRecord } from './types.js';

/** The schedule the `best` arm retrains, and the evidence it was chosen on. */
export interface TunedPick {
  /** The tuned trial it comes from; null for a point no trial ran (a model's recommendation). */
  trialId: number | null;
  trialNumber: number | null;
  params: Params;
  schedule: ScheduleSpec;
  /** How it was chosen, in words (stored with the report). */
  pickedBy: string;
  /** Its estimated objective value (the race mean), and on how many runs that rests. */
  estimate: number | null;
  runs: number;
}

export type PickState = { ready: false } | { ready: true; pick: TunedPick | null };

/**
 * Chooses the tuned schedule for final validation. `extraRuns` are trials the choice needs first (racing: the top
 * candidates on fresh validation seeds; keyed, so asking again creates nothing twice); `pick` answers once they
 * have all finished. A model-based picker (the GP's posterior-mean `recommend()` of the optimizer package) fits the
 * same shape: no extra runs, and a pick that may be a point no trial ran (trialId null).
 */
export interface FinalPicker {
  readonly name: string;
  extraRuns(trials: readonly TrialRecord[]): NewTrial[];
  pick(trials: readonly TrialRecord[]): PickState;
}

export interface RaceOptions {
  /** How many of the best tuned trials race; 1 (or 0 seeds) means no race: the single best value is taken. */
  candidates: number;
  /** Fresh validation seeds each candidate is re-measured on. */
  seeds: number;
  studySeed: number;
  direction: Direction;
  /** Seeds behind each search value (a trial's value is their mean), so it weighs as much as that many race runs. */
  seedsPerTrial: number;
}

export interface RaceStanding {
  trialId: number;
  trialNumber: number;
  searchValue: number;
  raceValues: number[];
  mean: number;
  runs: number;
}

/**
 * Racing: the top `candidates` tuned trials by their search value are re-measured on the same `seeds` fresh seeds
 * (validation set, never the test set), and the one with the best mean over all its runs wins. A single search
 * value is the winner's curse in person: among many noisy trials the luckiest one tops the table.
 */
export function racePicker(o: RaceOptions): FinalPicker {
  const racing = o.candidates > 1 && o.seeds > 0;
  const candidates = (trials: readonly TrialRecord[]) =>
    rankTrials(trials.filter((t) => roleKind(t.role) === 'search'), o.direction).slice(0, racing ? o.candidates : 1);
  return {
    name: racing ? 'race' : 'best-value',
    extraRuns(trials) {
      if (!racing) return [];
      const c = candidates(trials);
      if (c.length < 2) return [];
      return c.flatMap((t) =>
        Array.from({ length: o.seeds }, (_, j): NewTrial => ({
          state: 'WAITING', role: raceRole(t.number), key: `race:${t.number}:${j}`, params: t.params, schedule: t.schedule, seed: raceSeed(o.studySeed, j),
        })),
      );
    },
    pick(trials) {
      const c = candidates(trials);
      if (c.length === 0) return { ready: true, pick: null };
      if (!racing || c.length < 2) {
        const t = c[0]!;
        return { ready: true, pick: { ...fromTrial(t), pickedBy: 'the best search value (no race)', estimate: t.value, runs: o.seedsPerTrial } };
      }
      const standings = raceStandings(trials, c, o);
      if (!standings) return { ready: false };
      const winner = standings[0]!;
      const t = c.find((x) => x.id === winner.trialId)!;
      const pickedBy = `race: the top ${c.length} tuned trials on ${o.seeds} more validation seed${o.seeds === 1 ? '' : 's'} each; best mean over all runs (${standings.map((s) => `#${s.trialNumber} ${s.mean.toFixed(4)}`).join(', ')})`;
      return { ready: true, pick: { ...fromTrial(t), pickedBy, estimate: winner.mean, runs: winner.runs } };
    },
  };
}

/**
 * Without a race: the trial the caller's model recommends (the observed search point with the best posterior mean,
 * the optimizer's `recommend()`) rather than the single best search value, which among noisy trials is the luckiest.
 * Also what a recorded pick is replayed with, so the choice stays the one first made whoever asks again.
 */
export function chosenPicker(trial: TrialRecord, pickedBy: string, estimate: number | null, runs: number): FinalPicker {
  return {
    name: 'chosen',
    extraRuns: () => [],
    pick: () => ({ ready: true, pick: { ...fromTrial(trial), pickedBy, estimate, runs } }),
  };
}

/** Best first; null until every race run of every candidate has finished (a failed run counts as finished, without a value). */
export function raceStandings(trials: readonly TrialRecord[], candidates: readonly TrialRecord[], o: Pick<RaceOptions, 'seeds' | 'direction' | 'seedsPerTrial'>): RaceStanding[] | null {
  const out: RaceStanding[] = [];
  for (const c of candidates) {
    const runs = trials.filter((t) => raceOf(t.role) === c.number);
    if (runs.filter((t) => t.state === 'COMPLETE' || t.state === 'FAIL' || t.state === 'PRUNED').length < o.seeds) return null;
    const raceValues = runs.filter((t) => t.state === 'COMPLETE' && typeof t.value === 'number' && Number.isFinite(t.value)).map((t) => t.value!);
    const w = o.seedsPerTrial;
    const mean = (c.value! * w + raceValues.reduce((s, v) => s + v, 0)) / (w + raceValues.length);
    out.push({ trialId: c.id, trialNumber: c.number, searchValue: c.value!, raceValues, mean, runs: w + raceValues.length });
  }
  const sign = o.direction === 'maximize' ? -1 : 1;
  return out.sort((a, b) => sign * (a.mean - b.mean) || a.trialNumber - b.trialNumber);
}

function fromTrial(t: TrialRecord): Pick<TunedPick, 'trialId' | 'trialNumber' | 'params' | 'schedule'> {
  return { trialId: t.id, trialNumber: t.number, params: t.params, schedule: t.schedule };
}
