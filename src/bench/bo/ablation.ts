// Ablations of the GP optimizer on the bench functions: each robustness piece switched off (or swapped) in turn, same seeds, so its effect is measured rather than asserted.
import type { OptimizerOptions } from '../../optimizer/types.js';
import { benchGp, runOnFunction } from './regret.js';
import { quartiles, solvedRatio, SOLVED, wins } from './summary.js';
import type { TestFunction } from './test_functions.js';

export interface Variant {
  name: string;
  batch: number;
  options: Partial<OptimizerOptions>;
  /** What the comparison shows. */
  question: string;
}

export const VARIANTS: Variant[] = [
  { name: 'no trust region', batch: 1, options: { trustRegion: false }, question: 'does the stall remedy help?' },
  { name: 'no output warp', batch: 1, options: { outputWarp: false }, question: 'does the Yeo-Johnson warp help?' },
  { name: 'no additive term', batch: 1, options: { additiveKernel: false }, question: 'does the additive kernel term help?' },
  { name: 'subset 30 of 60', batch: 1, options: { maxModelPoints: 30 }, question: 'what does conditioning on a subset (as past 500 trials) cost?' },
  { name: 'kriging believer', batch: 4, options: { batch: 'kriging-believer' }, question: 'is qLogEI better than a kriging believer?' },
  { name: 'constant liar', batch: 4, options: { batch: 'constant-liar' }, question: 'is qLogEI better than a constant liar?' },
];

export interface AblationRow {
  variant: string;
  batch: number;
  fn: string;
  median: number;
  /** Median of the default GP at the same batch size, same seeds. */
  defaultMedian: number;
  /** Seeds where the variant's regret is below the default's (paired). */
  variantWins: number;
  seeds: number;
}

export interface AblationSummary {
  variant: string;
  batch: number;
  question: string;
  /** Geometric mean over functions of variant median / default median, both floored at SOLVED (>1: the default is better). */
  geoMeanRatio: number;
  /** Functions where the default's median is lower / higher. */
  defaultBetter: number;
  variantBetter: number;
}

/** `defaults(fn, batch)` gives the default GP's final regrets for seeds 0..seeds-1 (reused from the main table's runs where it ran them). */
export async function ablation(
  fns: TestFunction[],
  seeds: number,
  evals: number,
  defaults: (fn: TestFunction, batch: number) => Promise<number[]>,
  log: (l: string) => void,
): Promise<{ rows: AblationRow[]; summary: AblationSummary[] }> {
  const rows: AblationRow[] = [];
  const summary: AblationSummary[] = [];
  for (const v of VARIANTS) {
    let logSum = 0;
    let defaultBetter = 0;
    let variantBetter = 0;
    for (const fn of fns) {
      const base = await defaults(fn, v.batch);
      const finals: number[] = [];
      for (let seed = 0; seed < seeds; seed++) {
        const opt = benchGp(fn, seed, v.options);
        finals.push((await runOnFunction(opt, fn, seed, evals, v.batch)).final);
      }
      const median = quartiles(finals).median;
      const defaultMedian = quartiles(base).median;
      const row: AblationRow = { variant: v.name, batch: v.batch, fn: fn.name, median, defaultMedian, variantWins: wins(finals, base), seeds };
      rows.push(row);
      const ratio = solvedRatio(median, defaultMedian);
      logSum += Math.log(ratio);
      if (ratio > 1) defaultBetter++;
      else if (ratio < 1) variantBetter++;
      log(`  ${v.name.padEnd(17)} q=${v.batch} ${fn.name.padEnd(17)} median ${median.toPrecision(3).padStart(9)} vs default ${defaultMedian.toPrecision(3).padStart(9)}  variant better on ${row.variantWins}/${seeds} seeds`);
    }
    const s: AblationSummary = { variant: v.name, batch: v.batch, question: v.question, geoMeanRatio: Math.exp(logSum / fns.length), defaultBetter, variantBetter };
    summary.push(s);
    log(`  => ${v.name}: variant/default median ratio (regrets < ${SOLVED} count as solved), geometric mean over ${fns.length} functions ${s.geoMeanRatio.toFixed(2)} (default better on ${defaultBetter}, variant on ${variantBetter}, tied ${fns.length - defaultBetter - variantBetter})`);
  }
  return { rows, summary };
}
