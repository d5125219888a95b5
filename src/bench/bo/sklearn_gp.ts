// Runs scikit-learn's GP fit (src/bench/bo/sklearn_gp.py) on the ask-latency data of `bench bo` and parses its timings.
import { DataError } from '../../errors.js';
import { REFERENCE_PYTHON, lastJsonLine, pythonModuleVersion, referenceScriptPath, runReferenceScript } from '../python_reference.js';

/** Debian's python3-sklearn lives under this interpreter. */
export const SKLEARN_PYTHON = REFERENCE_PYTHON;

/**
 * One BLAS thread: our ask runs on one core, so a multi-threaded BLAS would compare unequal hardware.
 * Set in the child's environment because OpenBLAS reads it once, at load time.
 */
export const SKLEARN_ONE_THREAD_ENV = { OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' } as const;

/** Observations handed to the fit: points in [0,1]^d (row per observation) and their values. */
export interface GpFitDataset {
  X: number[][];
  y: number[];
}

export interface SklearnFitTiming {
  n: number;
  /** Median of `seconds`: the figure the bench compares against. */
  medianSeconds: number;
  seconds: number[];
  /** The fitted kernel as scikit-learn prints it, to show the fit did real work. */
  kernel: string;
  logMarginalLikelihood: number;
}

export interface SklearnGpTimings {
  version: string;
  /** Thread counts threadpoolctl reports per BLAS/OpenMP pool inside the child; all 1 when the limit took hold. */
  blasThreads: number[];
  fits: SklearnFitTiming[];
}

export function sklearnScriptPath(): string {
  return referenceScriptPath('bo/sklearn_gp.py');
}

/** scikit-learn's version under `python`, or why it is unusable (no interpreter, no sklearn). */
export function sklearnAvailability(python = SKLEARN_PYTHON): { version: string } | { missing: string } {
  return pythonModuleVersion(python, 'sklearn', 'python3-sklearn', { ...process.env, ...SKLEARN_ONE_THREAD_ENV });
}

const SOURCE = 'sklearn_gp.py output';
const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);

/**
 * Checks the script's last JSON line against the request: one fit per dataset, in order, whose echoed size and
 * data sums match what was sent (so the timing is of the same observations), with positive finite timings.
 */
export function parseSklearnOutput(text: string, request: { repeats: number; datasets: GpFitDataset[] }): SklearnGpTimings {
  const raw = lastJsonLine(text, SOURCE);
  const obj = raw as { sklearn?: unknown; fits?: unknown; blas_threads?: unknown };
  if (typeof obj !== 'object' || obj === null || typeof obj.sklearn !== 'string' || !Array.isArray(obj.fits)) {
    throw new DataError(SOURCE, 'expected {"sklearn": version, "fits": [...]}');
  }
  if (obj.fits.length !== request.datasets.length) throw new DataError(SOURCE, `${obj.fits.length} fits reported for ${request.datasets.length} datasets`);
  const fits = (obj.fits as Array<Record<string, unknown>>).map((f, i): SklearnFitTiming => {
    const ds = request.datasets[i]!;
    const where = `fit ${i + 1} (n = ${ds.y.length})`;
    if (f.n !== ds.y.length || f.d !== (ds.X[0]?.length ?? 0)) throw new DataError(SOURCE, `${where}: reports ${f.n} x ${f.d} data`);
    const xSum = sum(ds.X.map(sum));
    const ySum = sum(ds.y);
    const close = (a: unknown, b: number) => typeof a === 'number' && Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
    if (!close(f.x_sum, xSum) || !close(f.y_sum, ySum)) throw new DataError(SOURCE, `${where}: data sums ${f.x_sum}, ${f.y_sum} differ from the sent ${xSum}, ${ySum}`);
    const seconds = f.seconds;
    if (!Array.isArray(seconds) || seconds.length !== request.repeats) throw new DataError(SOURCE, `${where}: ${Array.isArray(seconds) ? seconds.length : 'no'} timings, expected ${request.repeats}`);
    if (!seconds.every((s) => typeof s === 'number' && Number.isFinite(s) && s > 0)) throw new DataError(SOURCE, `${where}: timings ${JSON.stringify(seconds)} are not positive finite seconds`);
    const sorted = [...(seconds as number[])].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    // Recomputed here rather than trusted from the script: the comparison rests on it.
    const medianSeconds = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
    if (typeof f.log_marginal_likelihood !== 'number' || !Number.isFinite(f.log_marginal_likelihood)) throw new DataError(SOURCE, `${where}: log marginal likelihood ${f.log_marginal_likelihood} is not finite`);
    return { n: ds.y.length, medianSeconds, seconds: seconds as number[], kernel: String(f.kernel), logMarginalLikelihood: f.log_marginal_likelihood };
  });
  const blasThreads = Array.isArray(obj.blas_threads) ? (obj.blas_threads as Array<{ threads?: unknown }>).map((p) => Number(p.threads)) : [];
  return { version: obj.sklearn, blasThreads, fits };
}

/** Fits scikit-learn's GP `repeats` times on each dataset with one BLAS thread and returns the fit timings. */
export async function runSklearnGpFit(request: { repeats: number; datasets: GpFitDataset[] }, python = SKLEARN_PYTHON): Promise<SklearnGpTimings> {
  const stdout = await runReferenceScript(python, 'bo/sklearn_gp.py', [], request, { ...process.env, ...SKLEARN_ONE_THREAD_ENV });
  return parseSklearnOutput(stdout, request);
}
