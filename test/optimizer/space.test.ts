// Search-space validation (one row per mistake, each naming the parameter) and the encode/decode round trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/errors.js';
import { EncodedSpace, validateSpace } from '../../src/optimizer/space.js';
import { Rng } from '../../src/gp/rng.js';

const BAD: [string, unknown, string, RegExp][] = [
  ['low >= high', { lr: { type: 'float', low: 1, high: 1 } }, 'space.lr', /low \(1\) must be below high \(1\) \(fix: widen the range/],
  ['low > high', { lr: { type: 'float', low: 2, high: 1 } }, 'space.lr', /low \(2\) must be below high \(1\) \(fix: swap them/],
  ['a span past the largest double', { lr: { type: 'float', low: -1e308, high: 1e308 } }, 'space.lr', /span high - low .* overflows a double/],
  ['log with low <= 0', { lr: { type: 'float', low: 0, high: 1, log: true } }, 'space.lr.low', /log scale needs low > 0/],
  ['empty choices', { act: { type: 'categorical', choices: [] } }, 'space.act.choices', /non-empty/],
  ['duplicate choices', { act: { type: 'categorical', choices: ['relu', 'tanh', 'relu'] } }, 'space.act.choices', /duplicate choice "relu"/],
  ['unknown type', { x: { type: 'uniform', low: 0, high: 1 } }, 'space.x.type', /must be one of 'float', 'int', 'categorical', got "uniform"/],
  ['non-finite bound', { x: { type: 'float', low: 0, high: Infinity } }, 'space.x.high', /finite number/],
  ['NaN bound', { x: { type: 'float', low: NaN, high: 1 } }, 'space.x.low', /finite number/],
  ['int with fractional bound', { n: { type: 'int', low: 1, high: 2.5 } }, 'space.n', /int bounds must be integers/],
  ['int log with low 0', { n: { type: 'int', low: 0, high: 10, log: true } }, 'space.n.low', /log scale needs low > 0/],
  ['log not boolean', { x: { type: 'float', low: 1, high: 2, log: 'yes' } }, 'space.x.log', /true or false/],
  ['unknown key', { x: { type: 'float', low: 1, high: 2, step: 0.1 } }, 'space.x.step', /unknown field \(fix: remove it; allowed fields are type, low, high, log\)/],
  ['spec not an object', { x: 3 }, 'space.x', /must be an object/],
  ['unknown key of a categorical', { act: { type: 'categorical', choices: ['a'], log: true } }, 'space.act.log', /unknown field \(fix: remove it; allowed fields are type, choices\)/],
  ['type typo', { x: { type: 'flaot', low: 0, high: 1 } }, 'space.x.type', /did you mean 'float'\?/],
  ['empty space', {}, 'space', /no parameters/],
  ['space not an object', [1, 2], 'space', /object keyed by parameter name/],
];

for (const [name, raw, field, message] of BAD) {
  test(`validateSpace rejects: ${name}`, () => {
    assert.throws(
      () => validateSpace(raw),
      (e: unknown) => e instanceof ConfigError && e.field === field && message.test(e.message),
      `expected ConfigError on ${field} matching ${message}`,
    );
  });
}

const MIXED = validateSpace({
  lr: { type: 'float', low: 1e-4, high: 1e-1, log: true },
  x: { type: 'float', low: -2, high: 3 },
  layers: { type: 'int', low: 1, high: 4 },
  width: { type: 'int', low: 8, high: 512, log: true },
  act: { type: 'categorical', choices: ['relu', 'tanh', 7] },
});

test('encode then decode returns the point; decode(random box point) is always inside the space', () => {
  const s = new EncodedSpace(MIXED);
  const p = { lr: 0.003, x: -1.25, layers: 3, width: 64, act: 7 };
  const back = s.decode(s.encode(p));
  assert.ok(Math.abs((back.lr as number) - 0.003) < 1e-15);
  assert.deepEqual({ ...back, lr: 0.003 }, p);
  const rng = new Rng(1);
  for (let i = 0; i < 200; i++) {
    const u = Array.from({ length: 5 }, () => rng.uniform());
    assert.doesNotThrow(() => s.validateParams(s.decode(u)));
  }
});

test('integers own equal-width bins: uniform box points give every integer about equally often', () => {
  const s = new EncodedSpace(validateSpace({ n: { type: 'int', low: 1, high: 4 } }));
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 4000; i++) counts[(s.decode([(i + 0.5) / 4000]).n as number) - 1]++;
  assert.deepEqual(counts, [1000, 1000, 1000, 1000]);
});

test('validateParams names the offending parameter', () => {
  const s = new EncodedSpace(MIXED);
  const ok = { lr: 0.01, x: 0, layers: 2, width: 16, act: 'relu' };
  const cases: [object, string][] = [
    [{ ...ok, lr: 0.5 }, 'params.lr'],
    [{ ...ok, layers: 2.5 }, 'params.layers'],
    [{ ...ok, act: 'gelu' }, 'params.act'],
    [{ ...ok, x: NaN }, 'params.x'],
    [{ ...ok, extra: 1 }, 'params.extra'],
    [{ lr: 0.01, x: 0, layers: 2, width: 16 }, 'params.act'],
  ];
  for (const [p, field] of cases) assert.throws(() => s.validateParams(p), (e: unknown) => e instanceof ConfigError && e.field === field, field);
});
