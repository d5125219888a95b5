// The batch target read off an outside reference run (batch_reference.py's JSON lines): each function's median regret
// asking 1 and 4 at a time, and their ratio with the same bootstrap interval and standing `bench bo` gives our GP.
import { DataError } from '../../errors.js';
import { BATCH_TARGET, batchVerdict, cell, num, quartiles, ratioInterval, SOLVED, type BatchVerdict, type Quartiles } from './summary.js';

export interface ReferenceRun {
  fn: string;
  seed: number;
  batch: number;
  /** Best-so-far regret after each evaluation. */
  trace: number[];
  seconds: number;
  fallbacks: number;
  sampler: string;
  /** The library and its version, e.g. "botorch 0.18.1" (a line holds it under the library's name). */
  library: string;
}

/** The libraries batch_reference.py runs; a line carries its version under one of these names. */
const LIBRARIES = ['botorch', 'optuna'] as const;

export interface ReferenceRow extends BatchVerdict {
  fn: string;
  sampler: string;
  /** Seeds run at both batch sizes (the only ones counted). */
  seeds: number[];
  evals: number;
  one: Quartiles;
  four: Quartiles;
  secondsPerRun: { one: number; four: number };
  /** Model rounds that fell back to quasi-random points, over all counted runs. */
  fallbacks: number;
}

function field<T>(where: string, rec: Record<string, unknown>, name: string, ok: (v: unknown) => v is T, want: string): T {
  const v = rec[name];
  if (!ok(v)) throw new DataError(where, `field '${name}' must be ${want}, got ${JSON.stringify(v) ?? 'nothing'}; the file should hold batch_reference.py's output lines unchanged`);
  return v;
}

const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isCount = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;
const isBatch = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 1;
const isSeconds = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isTrace = (v: unknown): v is number[] =>
  Array.isArray(v) && v.length > 0 && v.every((x, i) => typeof x === 'number' && x >= 0 && (i === 0 || x <= (v[i - 1] as number)));

function libraryOf(where: string, r: Record<string, unknown>): string {
  const name = LIBRARIES.find((l) => l in r);
  if (name === undefined) throw new DataError(where, `has no library version (a field ${LIBRARIES.map((l) => `'${l}'`).join(' or ')}); the file should hold batch_reference.py's output lines unchanged`);
  return `${name} ${field(where, r, name, isString, 'a version')}`;
}

/** One run per non-blank line; a bad line is a DataError naming the file, the line and the field. */
export function parseReferenceRuns(text: string, file: string): ReferenceRun[] {
  const runs: ReferenceRun[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${file} line ${i + 1}`;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch (err) {
      throw new DataError(where, `not JSON (${(err as Error).message}); the file should hold batch_reference.py's output lines unchanged`);
    }
    if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) throw new DataError(where, 'not a JSON object; the file should hold batch_reference.py\'s output lines unchanged');
    const r = rec as Record<string, unknown>;
    runs.push({
      fn: field(where, r, 'fn', isString, 'a function name'),
      seed: field(where, r, 'seed', isCount, 'a non-negative integer'),
      batch: field(where, r, 'batch', isBatch, 'a positive integer'),
      trace: field(where, r, 'trace', isTrace, 'a non-empty, non-increasing list of regrets >= 0'),
      seconds: field(where, r, 'seconds', isSeconds, 'a number of seconds'),
      fallbacks: field(where, r, 'fallbacks', isCount, 'a non-negative integer'),
      sampler: field(where, r, 'sampler', isString, 'a sampler name'),
      library: libraryOf(where, r),
    });
  });
  if (runs.length === 0) throw new DataError(file, 'holds no runs; run batch_reference.py run first');
  return runs;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * One row per function and sampler with runs at both batch sizes, regret read after `evals` evaluations (default:
 * the runs' length). A seed run twice at one batch size, or runs of different lengths, is a DataError.
 */
export function referenceRows(runs: ReferenceRun[], file: string, evals?: number): ReferenceRow[] {
  const groups = new Map<string, ReferenceRun[]>();
  for (const r of runs) {
    const key = `${r.fn}\u0000${r.sampler}`;
    const group = groups.get(key);
    if (group) group.push(r);
    else groups.set(key, [r]);
  }
  const rows: ReferenceRow[] = [];
  for (const group of groups.values()) {
    const at = (batch: number) => {
      const bySeed = new Map<number, ReferenceRun>();
      for (const r of group.filter((x) => x.batch === batch)) {
        if (bySeed.has(r.seed)) throw new DataError(file, `${r.fn} seed ${r.seed} batch ${batch} appears twice; keep one run per seed (runs append to the file)`);
        bySeed.set(r.seed, r);
      }
      return bySeed;
    };
    const one = at(1);
    const four = at(4);
    const seeds = [...one.keys()].filter((s) => four.has(s)).sort((a, b) => a - b);
    if (seeds.length === 0) continue;
    const pairs = seeds.map((s) => [one.get(s)!, four.get(s)!] as const);
    const lengths = new Set(pairs.flatMap(([a, b]) => [a.trace.length, b.trace.length]));
    const length = Math.min(...lengths);
    if (lengths.size > 1 && evals === undefined) throw new DataError(file, `${group[0]!.fn}: runs of ${[...lengths].join(' and ')} evaluations; pass --evals to read them all at one count`);
    const n = evals ?? length;
    if (n > length) throw new DataError(file, `${group[0]!.fn}: --evals ${n} is past the shortest run (${length} evaluations)`);
    const finals = (i: 0 | 1) => pairs.map((p) => p[i].trace[n - 1]!);
    const a = finals(0);
    const b = finals(1);
    rows.push({
      fn: group[0]!.fn, sampler: group[0]!.sampler, seeds, evals: n, one: quartiles(a), four: quartiles(b), ...batchVerdict(b, a),
      secondsPerRun: { one: mean(pairs.map((p) => p[0].seconds)), four: mean(pairs.map((p) => p[1].seconds)) },
      fallbacks: pairs.reduce((s, [x, y]) => s + x.fallbacks + y.fallbacks, 0),
    });
  }
  return rows;
}

/** Console lines, then a markdown table. */
export function referenceReport(rows: ReferenceRow[]): string[] {
  const lines = [`batch target (ask(4) median <= ${BATCH_TARGET} x ask(1); regrets < ${SOLVED} count as solved), from the reference runs:`];
  for (const r of rows) {
    lines.push(`  ${r.fn.padEnd(17)} ${r.sampler}  seeds ${r.seeds.length}  q=1 ${cell(r.one).padEnd(26)} q=4 ${cell(r.four).padEnd(26)} ` +
      `ratio ${r.ratio.toPrecision(3).padStart(6)} ${ratioInterval(r.interval).padEnd(20)} ${r.standing}  ` +
      `(${r.secondsPerRun.one.toFixed(0)} / ${r.secondsPerRun.four.toFixed(0)} s per run${r.fallbacks ? `, ${r.fallbacks} fallback rounds` : ''})`);
  }
  lines.push('markdown table:', '| function | seeds | q=1 | q=4 | q=4 / q=1 [90%] | target |', '|---|---|---|---|---|---|');
  for (const r of rows) {
    lines.push(`| ${r.fn} | ${r.seeds.length} | ${cell(r.one)} | ${cell(r.four)} | ${num(r.ratio)} ${ratioInterval(r.interval)} | ${r.standing} |`);
  }
  return lines;
}
