// The PyTorch layer under the current PyTorch: its tests (DistributedDataParallel and SyncBatchRenorm over gloo
// included) run again with .venv's interpreter (torch 2, `bash .ci/python-venv`) in place of Debian's torch 1.13,
// where torch.compile is checked for real. The README's multi-process loops run once, under Debian's torch (torch 2's
// DDP runs in test/clients/lightning.test.ts); the other client tests do not depend on torch's version.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { VENV_PYTHON, venvMissing } from '../python_venv.js';

const FILES = ['torch_layer.test.js'].map((f) => fileURLToPath(new URL(`./${f}`, import.meta.url)));

test("the PyTorch layer's tests pass under .venv's torch 2, none skipped", { skip: venvMissing(['torch'], 'the PyTorch tests would run again under torch 2') }, () => {
  const version = spawnSync(VENV_PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' }).stdout.trim();
  assert.match(version, /^2\./, `.venv has torch ${version}`);
  // A runner started from a test sees NODE_TEST_CONTEXT and declines to run files: this one is a runner of its own.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const r = spawnSync(process.execPath, ['--test', '--test-reporter=tap', ...FILES], {
    encoding: 'utf8', timeout: 1_200_000, env: { ...env, RENORM_TUNE_TEST_PYTHON: VENV_PYTHON },
  });
  const tail = (r.stdout + r.stderr).slice(-6000);
  assert.equal(r.status, 0, tail);
  const count = (what: string) => Number(new RegExp(`^# ${what} (\\d+)$`, 'm').exec(r.stdout)?.[1]);
  assert.ok(count('pass') > 0, tail);
  assert.equal(count('fail'), 0, tail);
  assert.equal(count('skipped'), 0, `a test skipped under torch ${version}: ${tail}`);
});
