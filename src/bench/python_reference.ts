// Runs the benchmarks' Python reference scripts (Optuna TPE, scikit-learn GP, PyTorch) under Debian's interpreter.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BackendError, DataError } from '../errors.js';

/** The interpreter Debian's python3-* packages install into; a virtualenv python would not see them. */
export const REFERENCE_PYTHON = '/usr/bin/python3';

/**
 * `script` is relative to src/bench (e.g. `bo/optuna_tpe.py`). The scripts are not compiled, so they stay in
 * src/bench/; this module may run from dist/src/bench (tsc output) or from src/bench directly, hence two candidates.
 */
export function referenceScriptPath(script: string): string {
  const candidates = [
    new URL(`./${script}`, import.meta.url),
    new URL(`../../../src/bench/${script}`, import.meta.url),
  ].map((u) => fileURLToPath(u));
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new BackendError(`${script} not found (looked in ${candidates.join(', ')})`);
  return found;
}

/** The version of Python module `module` under `python`, or why it is unusable, naming the Debian package that fixes it. */
export function pythonModuleVersion(
  python: string,
  module: string,
  debianPackage: string,
  env?: NodeJS.ProcessEnv,
): { version: string } | { missing: string } {
  if (!existsSync(python)) return { missing: `${python} does not exist` };
  const r = spawnSync(python, ['-c', `import ${module}; print(${module}.__version__)`], {
    encoding: 'utf8', timeout: 60_000, ...(env ? { env } : {}),
  });
  if (r.status !== 0) {
    const last = (r.stderr || String(r.error ?? '')).trim().split('\n').pop() || `exit status ${r.status}`;
    return { missing: `${python} cannot import ${module} (${last}); install it with: apt-get install ${debianPackage}` };
  }
  return { version: r.stdout.trim() };
}

/** Runs `script args...` with `request` as JSON on stdin and resolves with its stdout; a failure carries its stderr. */
export function runReferenceScript(python: string, script: string, args: string[], request: unknown, env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(python, [referenceScriptPath(script), ...args], { maxBuffer: 64 << 20, ...(env ? { env } : {}) }, (err, stdout, stderr) => {
      if (err) reject(new BackendError(`${[script, ...args].join(' ')} failed: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    }).stdin!.end(JSON.stringify(request));
  });
}

/** The JSON object a reference script prints as its last stdout line (earlier lines may be its own notes). */
export function lastJsonLine(text: string, source: string): unknown {
  const lines = text.trim().split('\n');
  try {
    return JSON.parse(lines[lines.length - 1] ?? '');
  } catch (e) {
    throw new DataError(source, `last line is not JSON (${(e as Error).message})`);
  }
}
