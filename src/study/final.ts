// Final validation: the winner and both baselines retrained on the same fresh seeds, scored on the test set.
import { bestTrial } from '../shared/best.js';
import { BASELINES, baselineRole, finalArmOf, finalRole } from '../shared/roles.js';
import { finalScore } from './runner/stats.js';
import { finalSeed } from './seeds.js';
import type { Direction, NewTrial, TrialRecord } from './types.js';

/** What a final run is scored on: the test set, whatever the search objective (its `loss` is training loss). */
export const FINAL_METRIC = 'testAccuracy';

export type FinalArm = 'batchnorm' | 'paper' | 'best';

/** The trial each arm retrains: the baselines (if they completed) and the best search trial (if it is not a baseline). */
export function finalSources(trials: readonly TrialRecord[], direction: Direction): Partial<Record<FinalArm, TrialRecord>> {
  const out: Partial<Record<FinalArm, TrialRecord>> = {};
  for (const b of BASELINES) {
    const t = trials.find((x) => x.role === baselineRole(b) && x.state === 'COMPLETE');
    if (t) out[b] = t;
  }
  const best = bestTrial(trials, direction);
  // A baseline that wins the search is not rerun twice: its own final scores stand for `best`.
  if (best && best.role !== 'baseline:batchnorm' && best.role !== 'baseline:paper') out.best = best;
  return out;
}

/**
 * Every arm on the same `seeds` fresh seeds (paired), keyed by arm and seed index, so calling this again (a
 * restart, a second coordinator) creates only what is missing.
 */
export function finalTrials(sources: Partial<Record<FinalArm, TrialRecord>>, studySeed: number, seeds: number): NewTrial[] {
  const out: NewTrial[] = [];
  for (const [arm, src] of Object.entries(sources) as [FinalArm, TrialRecord][]) {
    for (let i = 0; i < seeds; i++) {
      out.push({ state: 'WAITING', role: finalRole(arm), key: `${finalRole(arm)}:${i}`, params: src.params, schedule: src.schedule, seed: finalSeed(studySeed, i) });
    }
  }
  return out;
}

/** Means and 95% intervals of the COMPLETE final runs per arm, as stored in attrs.finalValidation. */
export function summarizeFinal(trials: readonly TrialRecord[], direction: Direction): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const byArm = new Map<string, number[]>();
  for (const t of trials) {
    const arm = finalArmOf(t.role);
    if (arm === null || t.state !== 'COMPLETE' || t.value === null) continue;
    byArm.set(arm, [...(byArm.get(arm) ?? []), t.value]);
  }
  for (const [arm, values] of byArm) out[arm] = finalScore(values);
  const best = bestTrial(trials, direction);
  if (best) {
    out.trialId = best.id;
    out.trialNumber = best.number;
    const b = best.role === 'baseline:batchnorm' ? 'batchnorm' : best.role === 'baseline:paper' ? 'paper' : null;
    if (b && out[b]) out.best = out[b];
  }
  return out;
}
