// `bench bo` section outliers: the GP on functions with a diverging region (15% of the box returns a huge value, as a
// schedule that blows up might report its loss), with and without tail compression (gp/tails.ts), beside the clean
// function and random search.
import { RandomOptimizer } from '../../optimizer/random.js';
import { benchGp, runOnFunction } from './regret.js';
import { quartiles } from './summary.js';
import type { TestFunction } from './test_functions.js';

/** What a diverged evaluation returns: far past a bench function's range, and past what doubles resolve next to it. */
export const MAGNITUDES = [1e6, 1e30] as const;
/** The region: the top 15% of the first parameter's range (none of the bench functions has its optimum there). */
export const REGION = 0.85;

/** `fn` with its first parameter's top (1 - REGION) of the range returning `big`. */
export function withDivergingRegion(fn: TestFunction, big: number): TestFunction {
  const [name, spec] = Object.entries(fn.space)[0]!;
  if (spec === null || typeof spec !== 'object' || spec.type !== 'float') throw new Error(`${fn.name}: the first parameter must be a float`);
  const cut = spec.low + REGION * (spec.high - spec.low);
  return { ...fn, name: `${fn.name}+${big.toExponential(0)}`, f: (p) => ((p[name] as number) > cut ? big : fn.f(p)) };
}

export interface OutlierRow {
  fn: string;
  magnitude: number | null;
  /** Median final regrets over the seeds. */
  compressed: number;
  plain: number;
  random: number;
}

export async function outliers(fns: TestFunction[], seeds: number, evals: number, log: (l: string) => void): Promise<OutlierRow[]> {
  const rows: OutlierRow[] = [];
  const median = (v: number[]) => quartiles(v).median;
  for (const base of fns) {
    for (const magnitude of [null, ...MAGNITUDES]) {
      const fn = magnitude === null ? base : withDivergingRegion(base, magnitude);
      const compressed: number[] = [];
      const plain: number[] = [];
      const random: number[] = [];
      for (let seed = 0; seed < seeds; seed++) {
        compressed.push((await runOnFunction(benchGp(fn, seed), fn, seed, evals, 1)).final);
        plain.push((await runOnFunction(benchGp(fn, seed, { outputTails: false }), fn, seed, evals, 1)).final);
        random.push((await runOnFunction(new RandomOptimizer({ space: fn.space, direction: 'minimize', seed }), fn, seed, evals, 1)).final);
      }
      const row: OutlierRow = { fn: base.name, magnitude, compressed: median(compressed), plain: median(plain), random: median(random) };
      rows.push(row);
      const e = (v: number) => v.toExponential(2).padStart(9);
      log(`  ${base.name.padEnd(12)} ${(magnitude === null ? 'clean' : magnitude.toExponential(0)).padEnd(6)} GP ${e(row.compressed)}  without compression ${e(row.plain)}  random ${e(row.random)}`);
    }
  }
  return rows;
}
