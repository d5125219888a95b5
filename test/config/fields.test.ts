// The shared config-field checkers: every bad value names its dotted field and a fix; near-miss names get "did you mean".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/errors.js';
import {
  closestMatch, describeValue, editDistance, expectInt, expectNumber, expectObject, expectOneOf, expectString, joinField, rejectUnknown,
} from '../../src/config/fields.js';

// [what is wrong, the call, the field the error must name, a phrase the problem must contain, a phrase the fix must contain]
const BAD: [string, () => unknown, string, RegExp, RegExp][] = [
  ['array as object', () => expectObject([], 'a.b'), 'a.b', /must be an object, got \[\]/, /JSON object/],
  ['null as object', () => expectObject(null, 'a', 'give {"x": 1}'), 'a', /got null/, /give \{"x": 1\}/],
  ['missing object', () => expectObject(undefined, 'a'), 'a', /got nothing/, /object/],
  ['string as number', () => expectNumber('5', 'opt.lr', 0, 10), 'opt.lr', /finite number in \[0, 10\], got "5"/, /set a number in \[0, 10\]/],
  ['NaN', () => expectNumber(NaN, 'x', 0, 1), 'x', /got NaN/, /\[0, 1\]/],
  ['Infinity', () => expectNumber(Infinity, 'x', 0, Infinity), 'x', /finite number >= 0, got Infinity/, /set a number >= 0/],
  ['below range', () => expectNumber(-0.1, 's.warmup', 0, 1), 's.warmup', /in \[0, 1\], got -0.1/, /\[0, 1\]/],
  ['above range', () => expectNumber(1.5, 's.warmup', 0, 1), 's.warmup', /got 1.5/, /\[0, 1\]/],
  ['open low end', () => expectNumber(0, 'lr', 0, 10, { loOpen: true }), 'lr', /in \(0, 10\]/, /\(0, 10\]/],
  ['open high end', () => expectNumber(1, 'p', 0, 1, { hiOpen: true }), 'p', /in \[0, 1\)/, /\[0, 1\)/],
  ['one-sided open', () => expectNumber(0, 'timeMinutes', 0, Infinity, { loOpen: true }), 'timeMinutes', /must be a number > 0, got 0/, /> 0/],
  ['unbounded, not a number', () => expectNumber(null, 'value', -Infinity, Infinity), 'value', /must be a finite number, got null/, /finite number/],
  ['upper bound only', () => expectNumber(3, 'y', -Infinity, 2), 'y', /<= 2/, /<= 2/],
  ['custom number fix', () => expectNumber('x', 'value', -Infinity, Infinity, { fix: 'send the metric' }), 'value', /finite number/, /send the metric/],
  ['fractional int', () => expectInt(2.5, 'm.depth', 1, 6), 'm.depth', /integer in \[1, 6\], got 2.5/, /set an integer in \[1, 6\]/],
  ['int too big', () => expectInt(7, 'm.depth', 1, 6), 'm.depth', /got 7/, /\[1, 6\]/],
  ['int as string', () => expectInt('4', 'workers', 1, 256), 'workers', /got "4"/, /integer/],
  ['int without upper bound', () => expectInt(-1, 'pruner.warmupSteps', 0), 'pruner.warmupSteps', /integer >= 0, got -1/, /integer >= 0/],
  ['int past the safe integers', () => expectInt(1e20, 'step', 0), 'step', /integer in \[0, 9007199254740991\], got 1e\+?20|got 100000000000000000000/, /9007199254740991/],
  ['unsafe int', () => expectInt(2 ** 60, 'seed', 0), 'seed', /integer in \[0, 9007199254740991\]/, /integer/],
  ['custom int fix', () => expectInt(0, 'count', 1, 64, 'ask for 1 to 64'), 'count', /\[1, 64\], got 0/, /ask for 1 to 64/],
  ['empty string', () => expectString('  ', 'd.trainImages', 'give the path of an IDX image file'), 'd.trainImages', /non-empty string/, /IDX image file/],
  ['number as string', () => expectString(3, 'name'), 'name', /got 3/, /non-empty string/],
  ['enum far off', () => expectOneOf('webgl', 'backend', ['cpu', 'wasm']), 'backend', /one of 'cpu', 'wasm', got "webgl"/, /use one of cpu, wasm/],
  ['enum custom fix', () => expectOneOf('resnet', 'model.type', ['cnn', 'mlp'], 'use "cnn" or "mlp"'), 'model.type', /got "resnet"/, /use "cnn" or "mlp"/],
  ['enum not a string', () => expectOneOf(1, 'kind', ['paper', 'ramp']), 'kind', /got 1/, /paper, ramp/],
  ['enum typo', () => expectOneOf('logie', 'opt.acquisition', ['logei', 'ucb', 'pi']), 'opt.acquisition', /got "logie"/, /did you mean 'logei'\?/],
  ['enum case', () => expectOneOf('Adam', 'opt.type', ['adam', 'sgd']), 'opt.type', /got "Adam"/, /did you mean 'adam'\?/],
  ['unknown key, typo', () => rejectUnknown({ rmaxFinale: 3 }, 'schedule', ['kind', 'rmaxFinal']), 'schedule.rmaxFinale', /unknown field/, /did you mean 'rmaxFinal'\?/],
  ['unknown key, top level', () => rejectUnknown({ budjet: 1 }, '', ['name', 'budget']), 'budjet', /unknown field/, /did you mean 'budget'\?/],
  ['unknown key, unrelated', () => rejectUnknown({ colour: 'red' }, 'cfg', ['name', 'budget']), 'cfg.colour', /unknown field/, /remove it; allowed fields are name, budget/],
  ['a field where none is taken (the body of stop, resume, delete)', () => rejectUnknown({ now: true }, '', []), 'now', /unknown field/, /^remove it; this takes no fields \(send \{\} or no body\)$/],
];

for (const [what, call, field, problem, fix] of BAD) {
  test(`rejects ${what}, naming ${field} and a fix`, () => {
    assert.throws(call, (e: unknown) => {
      assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
      assert.equal(e.field, field, `wrong field in: ${e.message}`);
      assert.equal(e.status, 400);
      assert.ok(e.message.startsWith(`${field}: `), `message should start with the field: ${e.message}`);
      assert.match(e.message, problem);
      assert.ok(e.fix !== undefined, `no fix in: ${e.message}`);
      assert.match(e.fix, fix);
      assert.ok(e.message.endsWith(`(fix: ${e.fix})`), `fix missing from message: ${e.message}`);
      return true;
    });
  });
}

test('good values pass through unchanged, bounds included', () => {
  const obj = { a: 1 };
  assert.equal(expectObject(obj, 'x'), obj);
  assert.equal(expectNumber(0, 'x', 0, 1), 0);
  assert.equal(expectNumber(1, 'x', 0, 1), 1);
  assert.equal(expectNumber(1e-9, 'x', 0, 10, { loOpen: true }), 1e-9);
  assert.equal(expectNumber(-1e300, 'x', -Infinity, Infinity), -1e300);
  assert.equal(expectInt(6, 'x', 1, 6), 6);
  assert.equal(expectInt(Number.MAX_SAFE_INTEGER, 'x', 0), Number.MAX_SAFE_INTEGER);
  assert.equal(expectString('a', 'x'), 'a');
  assert.equal(expectOneOf('ucb', 'x', ['logei', 'ucb']), 'ucb');
  rejectUnknown({ kind: 'paper' }, 'schedule', ['kind', 'warmup']);
});

test('editDistance matches hand-counted Levenshtein distances, ignoring case', () => {
  const cases: [string, string, number][] = [
    ['', '', 0], ['', 'abc', 3], ['abc', '', 3], ['kitten', 'sitting', 3], ['flaw', 'lawn', 2],
    ['budjet', 'budget', 1], ['trails', 'trials', 2], ['Adam', 'adam', 0], ['logie', 'logei', 2],
  ];
  for (const [a, b, d] of cases) {
    assert.equal(editDistance(a, b), d, `${a} -> ${b}`);
    assert.equal(editDistance(b, a), d, `${b} -> ${a} (symmetry)`);
  }
});

test('closestMatch suggests only names within a third of the length (at least 2 edits)', () => {
  assert.equal(closestMatch('budjet', ['name', 'budget', 'seed']), 'budget');
  assert.equal(closestMatch('sed', ['name', 'budget', 'seed']), 'seed');
  assert.equal(closestMatch('colour', ['name', 'budget', 'seed']), undefined);
  // 12 characters allow 4 edits, not 5.
  assert.equal(closestMatch('abcdefghijkl', ['abcdefghWXYZ']), 'abcdefghWXYZ');
  assert.equal(closestMatch('abcdefghijkl', ['abcdefgVWXYZ']), undefined);
  assert.equal(closestMatch('x', []), undefined);
});

test('describeValue keeps messages short and honest about NaN and missing values', () => {
  assert.equal(describeValue(undefined), 'nothing');
  assert.equal(describeValue(NaN), 'NaN');
  assert.equal(describeValue(-Infinity), '-Infinity');
  assert.equal(describeValue('a'), '"a"');
  assert.equal(describeValue({ a: [1, 2] }), '{"a":[1,2]}');
  const long = describeValue('x'.repeat(200));
  assert.equal(long.length, 60);
  assert.ok(long.endsWith('...'));
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.equal(describeValue(cyclic), '[object Object]');
  assert.equal(describeValue(() => 1), '() => 1');
});

test('joinField names top-level fields without a leading dot', () => {
  assert.equal(joinField('', 'budget'), 'budget');
  assert.equal(joinField('study.scenario', 'steps'), 'study.scenario.steps');
});

test('describeValue is safe on values too deep to stringify, and stays short', () => {
  let deepArr: unknown = 1;
  let deepObj: unknown = 1;
  for (let i = 0; i < 100_000; i++) {
    deepArr = [deepArr];
    deepObj = { a: deepObj };
  }
  assert.match(describeValue(deepArr), /^an array nested more than \d+ levels deep$/);
  assert.match(describeValue(deepObj), /^an object nested more than \d+ levels deep$/);
  assert.throws(() => expectInt(deepArr, 'count', 1, 64), (e: unknown) => e instanceof ConfigError && e.field === 'count' && /nested more than/.test(e.message));
  assert.equal(describeValue(Object.create(null)), '{}');
  assert.equal(describeValue(Object.defineProperty({}, 'x', { enumerable: true, get() { throw new Error('boom'); } })), '[object Object]');
  assert.ok(describeValue({ s: 'x'.repeat(1000) }).length <= 60);
});
