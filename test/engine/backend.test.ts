// Backend selection: auto picks wasm here (never silently cpu), missing native backends fail with the install fix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend, wasmSimdActive } from '../../src/engine/index.js';
import { BackendError } from '../../src/errors.js';

test('auto initialises a real backend, idempotently, and uses the SIMD wasm build when it falls to wasm', async () => {
  const first = initBackend('auto');
  assert.equal(initBackend('auto'), first, 'a second call returns the same promise');
  const { name } = await first;
  assert.notEqual(name, 'cpu', 'auto must not settle on the pure-JS cpu backend while wasm works');
  if (name === 'wasm') {
    assert.equal(tf.getBackend(), 'wasm');
    assert.equal(await wasmSimdActive(), true);
  }
});

test('explicit native backends that are not installed throw BackendError with the npm fix', async (t) => {
  for (const name of ['node', 'node-gpu'] as const) {
    try {
      await initBackend(name);
      t.diagnostic(`${name} is installed here; nothing to check`);
      await initBackend('wasm');
    } catch (e) {
      assert.ok(e instanceof BackendError, String(e));
      assert.match(e.message, name === 'node' ? /npm install @tensorflow\/tfjs-node\b/ : /npm install @tensorflow\/tfjs-node-gpu/);
      // Trials of `run` see this too, and run has no --backend: the fix names the setting, not a flag.
      assert.match(e.message, /or choose backend 'wasm'\)/);
      assert.doesNotMatch(e.message, /--backend/);
    }
  }
  await assert.rejects(initBackend('tpu' as 'cpu'), BackendError);
});
