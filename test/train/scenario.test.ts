// Scenario config validation: defaults are filled in, and every bad field is a ConfigError naming it with a fix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/errors.js';
import { validateScenario } from '../../src/train/scenario.js';

test('defaults make a complete scenario', () => {
  assert.deepEqual(validateScenario({}), {
    dataset: 'mnist', model: { type: 'cnn' }, batchSize: 32, sampler: { type: 'iid' }, steps: 1000,
    optimizer: { type: 'adam', learningRate: 0.001 }, evalInterval: 100, validationSize: 5000, evalSize: 1000, splitSeed: 0,
  });
  const s = validateScenario({ dataset: 'fashion-mnist', batchSize: 1, steps: 7, sampler: { type: 'classes', k: 1 }, optimizer: { type: 'momentum', learningRate: 0.1 }, trainSubset: 100, model: { type: 'mlp', hidden: [32] } });
  assert.equal(s.evalInterval, 1);
  assert.deepEqual(s.optimizer, { type: 'momentum', learningRate: 0.1 });
  assert.equal(s.trainSubset, 100);
  assert.deepEqual(validateScenario({ batchSize: 4, sampler: { type: 'sorted' } }).sampler, { type: 'sorted', runLength: 40 }, 'sorted runs default to 10 batches');
  assert.deepEqual(validateScenario({ sampler: { type: 'sorted', runLength: 5500 } }).sampler, { type: 'sorted', runLength: 5500 });
});

test('bad fields are rejected with the field name and a fix', () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ batchSize: 0 }, 'scenario.batchSize'],
    [{ batchSize: 4097 }, 'scenario.batchSize'],
    [{ batchSize: 2.5 }, 'scenario.batchSize'],
    [{ batchSize: '4' }, 'scenario.batchSize'],
    [{ steps: 0 }, 'scenario.steps'],
    [{ batchsize: 4 }, 'scenario.batchsize'],
    [{ dataset: 'cifar' }, 'scenario.dataset'],
    [{ dataset: { type: 'idx', trainImages: 'a', trainLabels: 'b', testImages: 'c' } }, 'scenario.dataset.testLabels'],
    [{ dataset: { type: 'csv' } }, 'scenario.dataset.type'],
    [{ model: { type: 'resnet' } }, 'scenario.model.type'],
    [{ model: { type: 'cnn', depth: 0 } }, 'scenario.model.depth'],
    [{ model: { type: 'mlp', hidden: [] } }, 'scenario.model.hidden'],
    [{ model: { type: 'mlp', hidden: [8, -1] } }, 'scenario.model.hidden[1]'],
    [{ sampler: { type: 'random' } }, 'scenario.sampler.type'],
    [{ sampler: { type: 'classes' } }, 'scenario.sampler.k'],
    [{ sampler: { type: 'classes', k: 11 } }, 'scenario.sampler.k'],
    [{ sampler: { type: 'iid', k: 2 } }, 'scenario.sampler.k'],
    [{ sampler: { type: 'sorted', runLength: 0 } }, 'scenario.sampler.runLength'],
    [{ optimizer: { type: 'rmsprop' } }, 'scenario.optimizer.type'],
    [{ optimizer: { learningRate: 0 } }, 'scenario.optimizer.learningRate'],
    [{ optimizer: { learningRate: Number.NaN } }, 'scenario.optimizer.learningRate'],
    [{ optimizer: { type: 'momentum', momentum: 0.5 } }, 'scenario.optimizer.momentum'],
    [{ steps: 10, evalInterval: 11 }, 'scenario.evalInterval'],
    [{ validationSize: 0 }, 'scenario.validationSize'],
    [{ validationSize: 100, evalSize: 101 }, 'scenario.evalSize'],
    [{ batchSize: 8, trainSubset: 4 }, 'scenario.trainSubset'],
    [{ splitSeed: -1 }, 'scenario.splitSeed'],
  ];
  for (const [raw, field] of cases) {
    assert.throws(() => validateScenario(raw), (e: unknown) => {
      assert.ok(e instanceof ConfigError, `${JSON.stringify(raw)} should be a ConfigError, got ${e}`);
      assert.equal(e.field, field, `${JSON.stringify(raw)}: "${e.message}"`);
      assert.ok(e.fix, `${field} needs a fix`);
      return true;
    });
  }
  assert.throws(() => validateScenario([]), (e: unknown) => e instanceof ConfigError && e.field === 'scenario');
  assert.throws(() => validateScenario({ batchSize: 0 }, 'study.scenario'), (e: unknown) => e instanceof ConfigError && e.field === 'study.scenario.batchSize' && /integer in \[1, 4096\]/.test(e.message));
});
