// Bounds on stored JSON: depth, entries, bytes, finite numbers and reserved keys, each refused with the field and a fix, without recursion.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/errors.js';
import { STORED_JSON_BOUNDS, expectBoundedJson, findJsonProblem, nestsDeeperThan } from '../../src/config/json_bounds.js';

/** `{"a": {"a": ... 1}}` with `levels` objects. */
export function deepObject(levels: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = { a: v };
  return v;
}

function deepArray(levels: number): unknown {
  let v: unknown = [];
  for (let i = 1; i < levels; i++) v = [v];
  return v;
}

function configError(field: string, problem: RegExp, fix: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof ConfigError, String(e));
    assert.equal(e.field, field, e.message);
    assert.match(e.message, problem);
    assert.match(e.fix ?? '', fix);
    return true;
  };
}

test('accepts ordinary metrics and exactly the bounds', () => {
  for (const v of [null, 0, -1.5e308, 'text ✓ 💩', true, [], {}, { loss: 0.3, clip: { r: [1, 2, 3] }, note: null }, deepObject(32), deepArray(32)]) {
    assert.equal(findJsonProblem(v, 'metrics'), null, JSON.stringify(v).slice(0, 80));
    expectBoundedJson(v, 'metrics');
  }
  const full = Object.fromEntries(Array.from({ length: STORED_JSON_BOUNDS.maxEntries }, (_, i) => [`k${i}`, i]));
  assert.equal(findJsonProblem(full, 'metrics'), null, 'maxEntries keys are allowed');
});

test('refuses a value one level too deep, naming the field and where', () => {
  assert.throws(() => expectBoundedJson(deepObject(33), 'metrics'), configError('metrics', /more than 32 levels .*at metrics\.a\.a\.a\.a\.a…/, /at most 32 levels/));
  assert.throws(() => expectBoundedJson({ x: deepArray(33) }, 'metrics'), configError('metrics', /more than 32 levels/, /flatten/));
});

test('walks a value thousands of levels deep without overflowing the stack', () => {
  const v = deepObject(200_000);
  assert.throws(() => JSON.stringify(v), RangeError, 'the value really is deep enough to overflow recursion');
  assert.equal(findJsonProblem(v, 'metrics')?.kind, 'depth');
  assert.equal(nestsDeeperThan(v, 32), true);
  assert.equal(nestsDeeperThan(deepObject(32), 32), false);
  assert.equal(nestsDeeperThan('x', 0), false);
});

test('refuses too many entries and too many bytes', () => {
  const many = Array.from({ length: STORED_JSON_BOUNDS.maxEntries + 1 }, () => 0);
  assert.throws(() => expectBoundedJson({ series: many }, 'metrics'), configError('metrics', /more than 4096 keys and array items/, /summary/));
  const big = { blob: 'x'.repeat(64 * 1024) };
  assert.throws(() => expectBoundedJson(big, 'metrics'), configError('metrics', /larger than 64 kB/, /under 64 kB/));
  // Bytes are UTF-8: 22,000 three-byte characters are 66 kB although the string has 22,000 units.
  assert.throws(() => expectBoundedJson({ s: '✓'.repeat(22_000) }, 'metrics'), /larger than 64 kB/);
});

test('refuses non-finite numbers, reserved keys and non-JSON values at their exact path', () => {
  assert.throws(() => expectBoundedJson({ loss: Infinity }, 'metrics'), configError('metrics.loss', /finite number/, /finite number, or null/));
  assert.throws(() => expectBoundedJson({ a: [1, NaN] }, 'metrics'), configError('metrics.a[1]', /finite/, /finite/));
  assert.throws(() => expectBoundedJson(JSON.parse('{"ok": {"__proto__": {"polluted": 1}}}'), 'metrics'), configError('metrics.ok.__proto__', /reserved key/, /rename/));
  assert.throws(() => expectBoundedJson({ f: () => 1 }, 'metrics'), configError('metrics.f', /not a JSON value/, /objects, arrays/));
  assert.throws(() => expectBoundedJson({ 'odd key': 10n }, 'metrics'), configError('metrics["odd key"]', /not a JSON value/, /finite numbers/));
  assert.equal(findJsonProblem({ constructor: 1, prototype: 2 }, 'm'), null, 'only __proto__ changes what a copy means');
});

test('a whole body (field "") names top-level keys bare and whole-value problems as body', () => {
  assert.throws(() => expectBoundedJson({ scenario: { steps: Infinity } }, ''), configError('scenario.steps', /finite/, /finite/));
  assert.throws(() => expectBoundedJson({ scenario: deepObject(40) }, ''), configError('body', /at scenario\.a\.a/, /flatten/));
  assert.throws(() => expectBoundedJson(Infinity, ''), configError('body', /finite/, /finite/));
});
