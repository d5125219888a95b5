// Runs Optuna's multivariate TPE (src/bench/bo/optuna_tpe.py) on the bench test functions and parses what they report.
import { DataError } from '../../errors.js';
import { REFERENCE_PYTHON, lastJsonLine, pythonModuleVersion, referenceScriptPath, runReferenceScript } from '../python_reference.js';

/** Debian's python3-optuna lives under this interpreter. */
export const OPTUNA_PYTHON = REFERENCE_PYTHON;

/** Per function, one entry per seed (seed order): best-so-far noise-free regret after each evaluation, and the final regret of Optuna's best trial. */
export interface OptunaTraces {
  version: string;
  batch: number;
  runs: Record<string, { trace: number[][]; final: number[] }>;
}

export interface OptunaRequest {
  functions: string[];
  seeds: number;
  /** Seeds firstSeed .. firstSeed + seeds - 1 (default 0). */
  firstSeed?: number;
  evals: number;
  /** Trials asked before any is told (constant liar on when > 1). */
  batch: number;
  /** Keep `batch` trials in flight, telling the oldest and asking one more each time (default false: whole batches). */
  asynchronous?: boolean;
}

export function optunaScriptPath(): string {
  return referenceScriptPath('bo/optuna_tpe.py');
}

/** Optuna's version under `python`, or why it is unusable (no interpreter, no optuna). */
export function optunaAvailability(python = OPTUNA_PYTHON): { version: string } | { missing: string } {
  return pythonModuleVersion(python, 'optuna', 'python3-optuna');
}

function runScript(mode: 'run' | 'eval', request: unknown, python: string): Promise<string> {
  return runReferenceScript(python, 'bo/optuna_tpe.py', [mode], request);
}

const SOURCE = 'optuna_tpe.py output';

/**
 * Checks the script's JSON and regroups it. Every (function, seed) must be present once with exactly `evals`
 * finite, non-negative, non-increasing regrets and a finite non-negative final regret, so a silently short or
 * broken run cannot enter the table.
 */
export function parseOptunaOutput(text: string, request: OptunaRequest): OptunaTraces {
  const raw = lastJsonLine(text, SOURCE);
  const obj = raw as { optuna?: unknown; runs?: unknown };
  if (typeof obj !== 'object' || obj === null || typeof obj.optuna !== 'string' || !Array.isArray(obj.runs)) {
    throw new DataError(SOURCE, 'expected {"optuna": version, "runs": [...]}');
  }
  const runs: OptunaTraces['runs'] = {};
  const first = request.firstSeed ?? 0;
  for (const run of obj.runs as Array<Record<string, unknown>>) {
    const { fn, sampler, seed, trace, final, batch, asynchronous } = run;
    const where = `run ${JSON.stringify({ fn, seed })}`;
    if (typeof fn !== 'string' || !request.functions.includes(fn)) throw new DataError(SOURCE, `${where}: unrequested function`);
    if (sampler !== 'tpe_multivariate') throw new DataError(SOURCE, `${where}: unknown sampler ${JSON.stringify(sampler)}`);
    if (batch !== request.batch) throw new DataError(SOURCE, `${where}: batch ${batch}, requested ${request.batch}`);
    if (asynchronous !== (request.asynchronous ?? false)) throw new DataError(SOURCE, `${where}: asynchronous ${asynchronous}, requested ${request.asynchronous ?? false}`);
    if (!Number.isInteger(seed) || (seed as number) < first || (seed as number) >= first + request.seeds) throw new DataError(SOURCE, `${where}: seed out of range`);
    const index = (seed as number) - first;
    if (!Array.isArray(trace) || trace.length !== request.evals) throw new DataError(SOURCE, `${where}: trace has ${Array.isArray(trace) ? trace.length : 'no'} entries, expected ${request.evals}`);
    trace.forEach((v, i) => {
      // Regret can dip a rounding error below zero when a run lands on the optimum.
      if (typeof v !== 'number' || !Number.isFinite(v) || v < -1e-9) throw new DataError(SOURCE, `${where}: regret ${v} at evaluation ${i + 1} is not a finite non-negative number`);
      if (i > 0 && v > trace[i - 1]) throw new DataError(SOURCE, `${where}: best-so-far regret rises at evaluation ${i + 1}`);
    });
    if (typeof final !== 'number' || !Number.isFinite(final) || final < -1e-9) throw new DataError(SOURCE, `${where}: final regret ${final} is not a finite non-negative number`);
    const byFn = (runs[fn] ??= { trace: [], final: [] });
    if (byFn.trace[index]) throw new DataError(SOURCE, `${where}: duplicate run`);
    byFn.trace[index] = trace as number[];
    byFn.final[index] = final;
  }
  for (const fn of request.functions) {
    const got = runs[fn]?.trace.filter(Boolean).length ?? 0;
    if (got !== request.seeds) throw new DataError(SOURCE, `${fn}: ${got} of ${request.seeds} seeds reported`);
  }
  return { version: obj.optuna, batch: request.batch, runs };
}

/** Runs multivariate TPE on `functions` (names from test_functions.ts) for `seeds` seeds from `firstSeed`, asking `batch` at a time. */
export async function runOptunaTpe(request: OptunaRequest, python = OPTUNA_PYTHON): Promise<OptunaTraces> {
  return parseOptunaOutput(await runScript('run', request, python), request);
}

/** The Python transcription's values at the given points (standard library only, no optuna needed). */
export async function pythonTestFunctionValues(points: Array<{ fn: string; x: Record<string, number | string> }>, python = OPTUNA_PYTHON): Promise<number[]> {
  const out = JSON.parse(await runScript('eval', { points }, python)) as { values: number[] };
  if (!Array.isArray(out.values) || out.values.length !== points.length) throw new DataError(SOURCE, `expected ${points.length} values`);
  return out.values;
}
