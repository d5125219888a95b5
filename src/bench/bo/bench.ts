// `bench bo`: GP vs Optuna's multivariate TPE vs random search on 15 test functions at batch 1 and 4, ablations, ask latency beside scikit-learn, event-loop responsiveness with the worker-thread host, and the mathjs GP step.
import { loadavg } from 'node:os';
import { ConfigError } from '../../errors.js';
import type { BayesianStats } from '../../optimizer/bayesian.js';
import type { BatchStrategy } from '../../optimizer/types.js';
import { RandomOptimizer } from '../../optimizer/random.js';
import { ablation, type AblationRow, type AblationSummary } from './ablation.js';
import { timeGpStep, type GpStepTiming } from './gp_step_mathjs.js';
import { latency, type LatencyResult } from './latency.js';
import { outliers, type OutlierRow } from './outliers.js';
import { optunaAvailability, runOptunaTpe, type OptunaTraces } from './optuna_tpe.js';
import { benchGp, runOnFunction, type Pacing } from './regret.js';
import { responsiveness, type ResponsivenessRow } from './responsiveness.js';
import { runKey, speedup, type SpeedupRow } from './speedup.js';
import { standing, type Standing } from './ratio_interval.js';
import { BATCH_TARGET, batchVerdict, type BatchVerdict, consoleLine, markdownTable, ratioInterval, regretRow, SOLVED, TARGET_RATIO, type RegretRow } from './summary.js';
import type { TestFunction } from './test_functions.js';

export const SECTIONS = ['regret', 'speedup', 'ablation', 'outliers', 'latency', 'threads', 'mathjs'] as const;
export type Section = (typeof SECTIONS)[number];

export interface BenchBoOptions {
  functions: TestFunction[];
  seeds: number;
  /** Seeds firstSeed .. firstSeed + seeds - 1 for every optimizer (default 0): a second seed set replicates the first. */
  firstSeed?: number;
  evals: number;
  batches: number[];
  sections: Section[];
  /**
   * The GP's batch strategy in the regret section (default the optimizer's). Its runs are then kept out of what the
   * speedup and ablation sections reuse, so those still measure the default.
   */
  batchMethod?: BatchStrategy;
  /**
   * How the regret section's runs with batch > 1 ask, the GP's and TPE's alike (default 'batches'; regret.ts). Like
   * `batchMethod`, other pacings are kept out of what the speedup and ablation sections reuse.
   */
  pacing?: Pacing;
  /** Run Optuna's TPE side by side when the interpreter has optuna. */
  optuna: boolean;
  /** The interpreter whose optuna runs TPE (default Debian's /usr/bin/python3 and its python3-optuna). */
  optunaPython?: string;
  /** Time scikit-learn's GP fit beside the ask latency when /usr/bin/python3 has sklearn. */
  sklearn: boolean;
  ablationFunctions: TestFunction[];
  /** Seeds of the ablations and of the outlier section. */
  ablationSeeds: number;
  outlierFunctions: TestFunction[];
  latencySizes: number[];
  /** Observations of the large ask (7-D schedule space) and of the responsiveness measurement. */
  largeN: number;
  log: (line: string) => void;
}

export type BatchCheck = { fn: string } & BatchVerdict;

export interface BenchBoResult {
  seeds: number;
  evals: number;
  regret: RegretRow[];
  /**
   * Functions meeting the target (GP median <= 0.5 x TPE-mv median), per batch size; of the misses, those whose
   * 90% interval reaches the target (within seed noise).
   */
  targetMet: Record<string, { met: number; of: number; missed: string[]; unresolved: string[] }>;
  batchCheck: BatchCheck[];
  gpStats: Record<string, BayesianStats>;
  /** Evaluations and rounds asking 4 at a time needs to reach ask(1)'s median regret at `evals`. */
  speedup?: SpeedupRow[];
  ablation?: { rows: AblationRow[]; summary: AblationSummary[] };
  outliers?: OutlierRow[];
  latency?: LatencyResult;
  responsiveness?: ResponsivenessRow[];
  mathjs?: GpStepTiming;
  optuna: { version: string } | { skipped: string };
  loadAverage: number[];
}

async function optunaSide(fns: TestFunction[], batch: number, o: BenchBoOptions): Promise<OptunaTraces | undefined> {
  if (!o.optuna) return undefined;
  const t0 = performance.now();
  const asynchronous = o.pacing === 'asynchronous';
  const tpe = await runOptunaTpe({ functions: fns.map((f) => f.name), seeds: o.seeds, firstSeed: o.firstSeed ?? 0, evals: o.evals, batch, ...(asynchronous ? { asynchronous } : {}) }, o.optunaPython);
  o.log(`  Optuna ${tpe.version} TPE (multivariate${batch > 1 ? `, constant liar${asynchronous ? ', asynchronous' : ''}` : ''}) at batch ${batch}: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  return tpe;
}

export async function benchBo(o: BenchBoOptions): Promise<BenchBoResult> {
  const has = (s: Section) => o.sections.includes(s);
  const first = o.firstSeed ?? 0;
  o.log(`bench bo: ${o.functions.length} functions x ${o.seeds} seeds${first ? ` (from seed ${first})` : ''} x ${o.evals} evaluations, batch ${o.batches.join(' and ')}; regret = noise-free value - known optimum; median [q1, q3]`);
  if (o.batchMethod) o.log(`the GP's batch strategy in the regret section: ${o.batchMethod}`);
  const pacing = o.pacing ?? 'batches';
  if (pacing === 'asynchronous') o.log('asynchronous: a batch of q stays in flight, each told trial followed by an ask of 1 with q - 1 pending (the GP and TPE alike)');
  // Only the default GP's runs are kept for the sections that reuse them.
  const reusable = !o.batchMethod && pacing === 'batches';
  let optuna: BenchBoResult['optuna'] = { skipped: '--no-optuna' };
  if (o.optuna) {
    const avail = optunaAvailability(o.optunaPython);
    if ('missing' in avail && o.optunaPython) throw new ConfigError('--optuna-python', avail.missing, 'name an interpreter that has optuna (a virtual environment\'s bin/python), or leave the flag out for /usr/bin/python3');
    if ('missing' in avail) {
      o.log(`note: Optuna TPE comparison skipped: ${avail.missing}`);
      optuna = { skipped: avail.missing };
      o.optuna = false;
    } else optuna = { version: avail.version };
  }
  const regret: RegretRow[] = [];
  // The default GP's final regret per function, batch size and seed: the ablations reuse whatever the regret runs measured.
  const gpFinals = new Map<string, number>();
  const finalKey = runKey;
  // Their best-so-far traces, under the same keys: the speedup section reuses the one-at-a-time ones.
  const gpTraces = new Map<string, number[]>();
  const gpStats: Record<string, BayesianStats> = {};
  if (has('regret')) {
    for (const batch of o.batches) {
      // TPE first and alone, so its CPU use does not distort the GP timings.
      const tpe = await optunaSide(o.functions, batch, o);
      o.log(`batch ${batch}:`);
      for (const fn of o.functions) {
        const gp: number[] = [];
        const gpBestObserved: number[] = [];
        const random: number[] = [];
        let seconds = 0;
        const stats: BayesianStats = { fits: 0, fallbacks: 0, localProposals: 0, proposals: 0 };
        for (let seed = first; seed < first + o.seeds; seed++) {
          const opt = benchGp(fn, seed, o.batchMethod ? { batch: o.batchMethod } : {});
          const r = await runOnFunction(opt, fn, seed, o.evals, batch, pacing);
          gp.push(r.final);
          if (reusable) {
            gpFinals.set(finalKey(fn, batch, seed), r.final);
            gpTraces.set(finalKey(fn, batch, seed), r.trace);
          }
          if (r.bestObservedFinal !== undefined) gpBestObserved.push(r.bestObservedFinal);
          seconds += r.seconds;
          for (const k of Object.keys(stats) as (keyof BayesianStats)[]) stats[k] += opt.stats[k];
          random.push((await runOnFunction(new RandomOptimizer({ space: fn.space, direction: 'minimize', seed }), fn, seed, o.evals, batch, pacing)).final);
        }
        gpStats[`${fn.name}/${batch}`] = stats;
        const row = regretRow(fn, batch, o.evals, {
          gp, random, ...(tpe ? { tpe: tpe.runs[fn.name]!.final } : {}), ...(gpBestObserved.length ? { gpBestObserved } : {}),
        }, seconds / o.seeds);
        regret.push(row);
        o.log(consoleLine(row));
      }
    }
  }
  const targetMet: BenchBoResult['targetMet'] = {};
  for (const batch of o.batches) {
    const rows = regret.filter((r) => r.batch === batch && r.gpOverTpe !== undefined);
    if (rows.length === 0) continue;
    const missedRows = rows.filter((r) => r.gpOverTpe! > TARGET_RATIO);
    const missed = missedRows.map((r) => r.fn);
    const unresolved = missedRows.filter((r) => standing(r.gpOverTpe!, r.gpOverTpeInterval ?? null, TARGET_RATIO) === 'unresolved').map((r) => r.fn);
    targetMet[batch] = { met: rows.length - missed.length, of: rows.length, missed, unresolved };
    const detail = missedRows.map((r) => `${r.fn} ${r.gpOverTpe!.toPrecision(3)} (90% ${ratioInterval(r.gpOverTpeInterval)})`);
    o.log(`target (GP median <= ${TARGET_RATIO} x TPE-mv) at batch ${batch}: met on ${rows.length - missed.length}/${rows.length}${missed.length ? `; missed on ${detail.join(', ')}; ${unresolved.length} of the ${missed.length} within seed noise` : ''}`);
  }
  const batchCheck: BatchCheck[] = [];
  if (o.batches.includes(1) && o.batches.includes(4) && regret.length > 0) {
    for (const fn of o.functions) {
      const one = regret.find((r) => r.fn === fn.name && r.batch === 1);
      const four = regret.find((r) => r.fn === fn.name && r.batch === 4);
      if (!one || !four) continue;
      batchCheck.push({ fn: fn.name, ...batchVerdict(four.perSeed.gp, one.perSeed.gp) });
    }
    const count = (s: Standing) => batchCheck.filter((b) => b.standing === s).length;
    o.log(`batch target (ask(4) median <= ${BATCH_TARGET} x ask(1); regrets < ${SOLVED} count as solved): met on ${count('met')}/${batchCheck.length}, missed beyond seed noise on ${count('missed')}, missed within it on ${count('unresolved')}; ratios [90% bootstrap interval over seeds]:`);
    for (const b of batchCheck) o.log(`  ${b.fn.padEnd(20)} ${b.ratio.toPrecision(3).padStart(7)} ${ratioInterval(b.interval).padEnd(22)} ${b.standing}`);
  }
  if (regret.some((r) => r.tpe)) {
    o.log('markdown table:');
    o.log(markdownTable(regret));
  }
  const result: BenchBoResult = { seeds: o.seeds, evals: o.evals, regret, targetMet, batchCheck, gpStats, optuna, loadAverage: [] };
  if (has('speedup') && o.batches.some((b) => b > 1)) {
    o.log(`what parallel asks buy (${o.seeds} seeds): evaluations asking q at a time needs to reach the median regret asking 1 at a time reaches in ${o.evals}, and the rounds of q parallel trials that takes:`);
    result.speedup = await speedup(o.functions, { seeds: o.seeds, firstSeed: first, evals: o.evals, batches: o.batches, horizon: 2, known: gpTraces, log: o.log });
  }
  if (has('ablation')) {
    o.log(`ablations (${o.ablationSeeds} seeds, ${o.evals} evaluations; same seeds as the default GP):`);
    // The variants run seeds 0..ablationSeeds-1; the default runs only the seeds the regret runs did not.
    const defaults = async (fn: TestFunction, batch: number): Promise<number[]> => {
      const out: number[] = [];
      for (let seed = 0; seed < o.ablationSeeds; seed++) {
        let final = gpFinals.get(finalKey(fn, batch, seed));
        if (final === undefined) {
          final = (await runOnFunction(benchGp(fn, seed), fn, seed, o.evals, batch)).final;
          gpFinals.set(finalKey(fn, batch, seed), final);
        }
        out.push(final);
      }
      return out;
    };
    result.ablation = await ablation(o.ablationFunctions, o.ablationSeeds, o.evals, defaults, o.log);
  }
  if (has('outliers')) {
    o.log(`diverging region (the top 15% of the first parameter returns 1e6 or 1e30), ${o.ablationSeeds} seeds, ${o.evals} evaluations, batch 1; median regret:`);
    result.outliers = await outliers(o.outlierFunctions, o.ablationSeeds, o.evals, o.log);
  }
  if (has('latency')) {
    o.log('ask latency (one ask; 6-D Hartmann6 data, then the 7-D schedule space):');
    result.latency = await latency(o.latencySizes, o.largeN, { sklearn: o.sklearn, log: o.log });
  }
  if (has('threads')) {
    o.log(`event-loop responsiveness: GET /health every 20 ms on a local server while asks run at n = ${o.largeN} (7-D):`);
    result.responsiveness = await responsiveness(o.largeN, 3, o.log);
  }
  if (has('mathjs')) {
    o.log('GP likelihood step (kernel, factorization, solves, gradient) at n = 200, 7-D: mathjs dense matrices (datatype number) vs Float64Array:');
    const m = timeGpStep(200);
    result.mathjs = m;
    o.log(`  mathjs ${m.mathjsMs.toFixed(0)} ms, typed arrays ${m.typedMs.toFixed(1)} ms -> mathjs ${m.ratio.toFixed(1)}x slower (same value and gradient to ${m.maxRelDiff.toExponential(0)}); ${m.ratio <= 3 ? 'within' : 'outside'} the issue's 3x`);
  }
  result.loadAverage = loadavg();
  o.log(`machine load average ${result.loadAverage.map((v) => v.toFixed(1)).join(' ')} (timings scale with it)`);
  return result;
}
