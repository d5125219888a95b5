// Runs the Python reference scripts of `bench bo` (Optuna TPE, scikit-learn GP) under Debian's interpreter.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BackendError, DataError } from '../errors.js';

/** The interpreter Debian's python3-* packages install into; a virtualenv python would not see them. */
export const REFERENCE_PYTHON = '/usr/bin/python3';

/**
 * The scripts are not compiled, so they stay in src/optimizer/bench/; this module may run from dist/src/optimizer
 * (tsc output) or from src/optimizer directly, hence two candidate locations.
 */
export function referenceScriptPath(script: string): string {
  const candidates = [
    new URL(`./bench/${script}`, import.meta.url),
    new URL(`../../../src/optimizer/bench/${script}`, import.meta.url),
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
