// What parallel asks buy: how many evaluations, and rounds of q parallel trials, asking q at a time needs to reach the median regret asking one at a time reaches in `evals`.
//
// The batch target compares regrets at equal evaluations, which is what a batch costs in compute. A user with q
// workers pays in wall-clock rounds instead: a batch of q trains at once. This section answers that user's question.
// Each run's trace is its best-so-far noise-free regret after each evaluation; the median over seeds is taken
// evaluation by evaluation (a non-increasing curve), and the answer is the first evaluation at which the batch
// curve is at or below the one-at-a-time curve's value at `evals` (regrets below SOLVED count as solved).
import type { TestFunction } from './test_functions.js';
import { quantileSorted } from '../../study/stats/bootstrap.js';
import { benchGp, runOnFunction } from './regret.js';
import { SOLVED } from './summary.js';

export interface SpeedupRow {
  fn: string;
  batch: number;
  /** Median regret asking one at a time after `evals` evaluations (floored at SOLVED): the level to reach. */
  reference: number;
  /** Median regret asking `batch` at a time after the same `evals`. */
  atEqualEvals: number;
  /** Evaluations asking `batch` at a time to reach `reference`; null when not reached within `horizon`. */
  evalsNeeded: number | null;
  /** Rounds of `batch` parallel trials that takes: ceil(evalsNeeded / batch). */
  rounds: number | null;
  /** evals / rounds: how much sooner, in wall-clock, `batch` workers reach the reference than one. */
  speedup: number | null;
  horizon: number;
}

/** Median over seeds after each evaluation. */
export function medianCurve(traces: readonly number[][]): number[] {
  const len = Math.min(...traces.map((t) => t.length));
  const out: number[] = [];
  for (let i = 0; i < len; i++) out.push(quantileSorted(traces.map((t) => t[i]!).sort((a, b) => a - b), 0.5));
  return out;
}

/** The first evaluation count (1-based) at which `curve` is at or below `level` (floored at SOLVED), or null. */
export function evaluationsToReach(curve: readonly number[], level: number): number | null {
  const target = Math.max(level, SOLVED);
  const i = curve.findIndex((v) => Math.max(v, SOLVED) <= target);
  return i < 0 ? null : i + 1;
}

export function speedupRow(fn: string, batch: number, evals: number, one: readonly number[][], many: readonly number[][]): SpeedupRow {
  const ref = Math.max(medianCurve(one)[evals - 1]!, SOLVED);
  const curve = medianCurve(many);
  const evalsNeeded = evaluationsToReach(curve, ref);
  const rounds = evalsNeeded === null ? null : Math.ceil(evalsNeeded / batch);
  return {
    fn, batch, reference: ref, atEqualEvals: curve[evals - 1]!, evalsNeeded, rounds,
    speedup: rounds === null ? null : evals / rounds, horizon: curve.length,
  };
}

/** A run's key among known traces (and the regret section's finals): function, batch size, seed. */
export const runKey = (fn: TestFunction, batch: number, seed: number): string => `${fn.name}/${batch}/${seed}`;

export interface SpeedupOptions {
  seeds: number;
  firstSeed: number;
  evals: number;
  /** Batch sizes above 1 to measure. */
  batches: number[];
  /** Runs asking `batch` at a time go on to `horizon` x evals evaluations. */
  horizon: number;
  /** Traces already measured (the regret section's), by runKey, at least `evals` long. */
  known?: Map<string, number[]>;
  log: (line: string) => void;
}

export async function speedup(fns: readonly TestFunction[], o: SpeedupOptions): Promise<SpeedupRow[]> {
  const traces = async (fn: TestFunction, batch: number, evals: number): Promise<number[][]> => {
    const out: number[][] = [];
    for (let seed = o.firstSeed; seed < o.firstSeed + o.seeds; seed++) {
      const hit = o.known?.get(runKey(fn, batch, seed));
      out.push(hit && hit.length >= evals ? hit : (await runOnFunction(benchGp(fn, seed), fn, seed, evals, batch)).trace);
    }
    return out;
  };
  const rows: SpeedupRow[] = [];
  for (const fn of fns) {
    const one = await traces(fn, 1, o.evals);
    for (const batch of o.batches.filter((b) => b > 1)) {
      const row = speedupRow(fn.name, batch, o.evals, one, await traces(fn, batch, Math.round(o.horizon * o.evals)));
      rows.push(row);
      const reached = row.evalsNeeded === null
        ? `not reached within ${row.horizon} evaluations`
        : `reached after ${row.evalsNeeded} evaluations = ${row.rounds} rounds of ${batch}: ${row.speedup!.toFixed(1)}x sooner than ${o.evals} rounds of 1`;
      o.log(`  ${fn.name.padEnd(17)} q=${batch}  ask(1) at ${o.evals}: ${row.reference.toPrecision(2)} (ask(${batch}) at ${o.evals}: ${row.atEqualEvals.toPrecision(2)}); ${reached}`);
    }
  }
  return rows;
}
