// Reading stored JSON never throws: too deep is cut to the bound, too big or unparsable reads as the fallback, and every repair warns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readStoredJson, repairStoredValue } from '../../src/config/stored_json.js';
import { nestsDeeperThan } from '../../src/config/json_bounds.js';

function collect() {
  const warnings: string[] = [];
  return { warnings, opts: { where: 'trial 7 metrics', warn: (m: string) => warnings.push(m), fallback: null } };
}

test('ordinary values come back equal, with no warning', () => {
  const { warnings, opts } = collect();
  for (const v of [null, 1, 'x', [1, [2]], { loss: 0.3, nested: { a: [true, null] } }]) {
    assert.deepEqual(readStoredJson(JSON.stringify(v), opts), v);
    assert.deepEqual(repairStoredValue(v, opts), v);
  }
  assert.equal(readStoredJson(null, opts), null, 'SQL NULL is null');
  assert.deepEqual(warnings, []);
});

test('a value 4,100 levels deep (the poisoned report) reads cut to 32 levels with a warning', () => {
  const { warnings, opts } = collect();
  const text = `{"loss": 0.5, "deep": ${'{"a":'.repeat(4100)}1${'}'.repeat(4100)}}`;
  const v = readStoredJson(text, opts) as Record<string, unknown>;
  assert.equal(v.loss, 0.5, 'the shallow parts survive');
  assert.equal(nestsDeeperThan(v, 32), false);
  assert.equal(nestsDeeperThan(v, 31), true, 'cut at the bound, not above it');
  assert.doesNotThrow(() => JSON.stringify(v));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /trial 7 metrics: nested more than 32 levels; 1 deeper part/);
});

test('unparsable, too big or too many entries read as the fallback with a warning', () => {
  const { warnings, opts } = collect();
  const fallback = { skipped: true };
  const o = { ...opts, fallback };
  assert.equal(readStoredJson('{"loss": ', o), fallback);
  assert.equal(readStoredJson(JSON.stringify({ blob: 'x'.repeat(250_000) }), o), fallback);
  assert.equal(repairStoredValue({ blob: 'x'.repeat(70_000) }, o), fallback);
  assert.equal(repairStoredValue({ series: new Array(5000).fill(0) }, o), fallback);
  assert.equal(warnings.length, 4);
  assert.match(warnings[0]!, /not valid JSON/);
  assert.match(warnings[1]!, /250\d+ bytes of JSON \(limit 65536\)/);
  assert.match(warnings[3]!, /more than 4096 keys and items/);
});

test('reserved keys are dropped (never turned into a prototype) and non-finite numbers read as null', () => {
  const { warnings, opts } = collect();
  const v = readStoredJson('{"a": 1, "__proto__": {"polluted": true}}', opts) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(v), Object.prototype);
  assert.equal((v as { polluted?: boolean }).polluted, undefined);
  assert.deepEqual(Object.keys(v), ['a']);
  assert.deepEqual(repairStoredValue({ x: Infinity, y: [NaN] }, opts), { x: null, y: [null] });
  assert.match(warnings[0]!, /1 reserved key/);
});

test('custom bounds apply, and a throwing getter is skipped rather than thrown', () => {
  const { warnings, opts } = collect();
  assert.deepEqual(repairStoredValue({ a: { b: { c: 1 } } }, { ...opts, bounds: { maxDepth: 2, maxEntries: 10, maxBytes: 100 } }), { a: { b: null } });
  const hostile = Object.defineProperty({}, 'x', { enumerable: true, get() { throw new Error('boom'); } });
  assert.equal(repairStoredValue(hostile, opts), null);
  assert.match(warnings.at(-1)!, /unreadable \(boom\)/);
});
