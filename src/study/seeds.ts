// Every seed a study derives (trials, repeats, final validation), from the study seed: one home for the formulas.

/** A trial's training seed from the study seed and the trial's storage-assigned number: reproducible, distinct per trial. */
export function trialSeed(studySeed: number, number: number): number {
  return (studySeed * 1_000_003 + number * 7_919 + 104_729) % 2_147_483_647;
}

/** Seed of the j-th repeat of a trial (seedsPerTrial > 1; j = 0 is the trial's own seed). */
export function repeatSeed(seed: number, j: number): number {
  return (seed + j * 100_003) % 2_147_483_647;
}

/**
 * The i-th fresh seed of final validation: from a stream disjoint from the search's, and the same for every arm,
 * so the arms are compared on paired seeds.
 */
export function finalSeed(studySeed: number, i: number): number {
  return trialSeed(studySeed ^ 0x5eed, 1_000_000 + i);
}

/**
 * The j-th seed of the race among the top tuned trials: one stream, the same for every candidate (so they are
 * compared on common seeds), disjoint in intent from the search's and from final validation's.
 */
export function raceSeed(studySeed: number, j: number): number {
  return trialSeed(studySeed ^ 0x7ace, 2_000_000 + j);
}
