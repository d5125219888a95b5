// The project's virtual environment, .venv/ (`bash .ci/python-venv` builds it from the machine's local wheels): the
// current Python ML stack (PyTorch 2, Optuna 5) beside Debian's older one under /usr/bin/python3.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** From dist/test/, the repository root's .venv. */
export const VENV_PYTHON = fileURLToPath(new URL('../../.venv/bin/python', import.meta.url));

/** Why the tests that need `modules` from .venv skip (`need`: what they would check), or false when all import. */
export function venvMissing(modules: string[], need: string): string | false {
  if (!existsSync(VENV_PYTHON)) return `${VENV_PYTHON} does not exist (build it with: bash .ci/python-venv); ${need}`;
  const r = spawnSync(VENV_PYTHON, ['-c', `import ${modules.join(', ')}`], { encoding: 'utf8' });
  if (r.status !== 0) return `.venv cannot import ${modules.join(', ')} (${r.stderr.trim().split('\n').pop()}; rebuild it with: bash .ci/python-venv); ${need}`;
  return false;
}
