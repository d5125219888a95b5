// Model spec validation (pure, no TF.js): good specs pass unchanged, and every bad field is named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateModelSpec } from '../../src/config/model_spec.js';
import { ConfigError } from '../../src/errors.js';

const fails = (raw: unknown, field: string) =>
  assert.throws(() => validateModelSpec(raw, 'scenario.model'), (e: unknown) => e instanceof ConfigError && e.field === field, `expected an error on ${field}`);

test('validateModelSpec accepts good specs and names the bad field', () => {
  assert.deepEqual(validateModelSpec({ type: 'cnn' }, 'm'), { type: 'cnn' });
  assert.deepEqual(validateModelSpec({ type: 'cnn', depth: 3, width: 8 }, 'm'), { type: 'cnn', depth: 3, width: 8 });
  assert.deepEqual(validateModelSpec({ type: 'mlp', hidden: [64, 32] }, 'm'), { type: 'mlp', hidden: [64, 32] });
  fails(null, 'scenario.model');
  fails({ type: 'resnet' }, 'scenario.model.type');
  fails({ type: 'cnn', depth: 0 }, 'scenario.model.depth');
  fails({ type: 'cnn', depth: 2.5 }, 'scenario.model.depth');
  fails({ type: 'cnn', width: '16' }, 'scenario.model.width');
  fails({ type: 'cnn', hidden: [3] }, 'scenario.model.hidden');
  fails({ type: 'mlp', hidden: [] }, 'scenario.model.hidden');
  fails({ type: 'mlp', hidden: [8, -1] }, 'scenario.model.hidden[1]');
});
