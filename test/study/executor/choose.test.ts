// Executor choice checks: each fix names the backend setting the refusing command really has (`run` has no --backend).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkBackendInstalled, checkIsolation } from '../../../src/study/executor/choose.js';
import { ConfigError } from '../../../src/errors.js';

const fixOf = (fn: () => void): string => {
  try {
    fn();
  } catch (e) {
    return e instanceof ConfigError ? e.fix ?? '' : (e as Error).message;
  }
  assert.fail('expected a refusal');
};

test('checkIsolation: a thread pool on a native backend is refused with the fix in the caller\'s terms', () => {
  const worker = fixOf(() => checkIsolation('thread', 'node-gpu'));
  assert.match(worker, /--isolation process.*--backend wasm/, 'a worker has --backend');
  const run = fixOf(() => checkIsolation('thread', 'node-gpu', '--isolation', 'backend'));
  assert.match(run, /--isolation process.*set "backend": "wasm" in the study config/);
  assert.doesNotMatch(run, /--backend/, `run has no --backend option: ${run}`);
});

test('checkBackendInstalled: the wasm alternative is a flag for a worker, the config field for a study', () => {
  const flag = fixOf(() => checkBackendInstalled('node-gpu'));
  const field = fixOf(() => checkBackendInstalled('node-gpu', 'backend'));
  if (!flag.includes('not installed')) return; // tfjs-node-gpu is installed here: nothing is refused
  assert.match(flag, /or use --backend wasm\)/);
  assert.match(field, /or set "backend": "wasm" in the study config\)/);
  assert.doesNotMatch(field, /--backend/);
});
