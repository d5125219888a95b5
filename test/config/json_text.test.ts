// JSON syntax errors by line and column: the scanner agrees with JSON.parse on what is valid, and points at the offending character.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataError } from '../../src/errors.js';
import { duplicateKey, jsonErrorOffset, lineColumn, parseJsonFile } from '../../src/config/json_text.js';
import { rng } from '../fixtures/rng.js';

test('the scanner points at the first offending character of hand-written mistakes', () => {
  const cases: [string, number][] = [
    ['{"a": 1,\n  "b": }', 16], ['{"name": "x",', 13], ['{"a":1}{', 7], ["{'a': 1}", 1], ['[1,\n2,\n3,,]', 9], ['"\\x"', 1],
    ['{"a":1,}', 7], ['[1,]', 3], ['-', 0], ['01', 1], ['1.', 1], ['"ab\ncd"', 3], ['{"a" 1}', 5], ['tru', 0], ['nulls', 4], ['', 0], ['  ', 2],
  ];
  for (const [text, offset] of cases) assert.equal(jsonErrorOffset(text), offset, JSON.stringify(text));
  for (const ok of ['{}', '[]', ' [ ] ', '{"a": [1, -2.5e+3, {"b": null}], "c": "d\\u00e9\\n"}', '"x"', 'true', '[[[[1]]]]']) assert.equal(jsonErrorOffset(ok), -1, ok);
});

test('the scanner agrees with JSON.parse on 3000 random mutations of a config, and never throws on deep nesting', () => {
  const rand = rng(7);
  const seed = JSON.stringify({ name: 'x', scenario: { steps: 500, sampler: { type: 'classes', k: 1 } }, budget: { trials: 10 }, tags: ['a', 'b\\"c'], n: -1.5e-3, ok: true, none: null }, null, 2);
  const junk = ['{', '}', '[', ']', ',', ':', '"', '\\', 'x', '1', '-', '.', 'e', ' ', '\n', 'n', 't', '\u0001'];
  for (let k = 0; k < 3000; k++) {
    const chars = [...seed];
    for (let m = 1 + Math.floor(rand() * 3); m > 0; m--) {
      const i = Math.floor(rand() * chars.length);
      const op = rand();
      if (op < 0.4) chars.splice(i, 1);
      else if (op < 0.8) chars.splice(i, 0, junk[Math.floor(rand() * junk.length)]!);
      else chars[i] = junk[Math.floor(rand() * junk.length)]!;
    }
    const text = chars.join('');
    let valid = true;
    try {
      JSON.parse(text);
    } catch {
      valid = false;
    }
    assert.equal(jsonErrorOffset(text) < 0, valid, JSON.stringify(text));
    duplicateKey(text); // ends, and never throws, on any text
  }
  assert.equal(jsonErrorOffset('['.repeat(200_000)), 200_000);
});

test('parseJsonFile names the file, the line and the column', () => {
  assert.deepEqual(lineColumn('ab\ncd\nef', 4), { line: 2, column: 2 });
  assert.throws(() => parseJsonFile('{\n  "name": "x",\n  "budget": {"trials": 5,}\n}', 'study.json'),
    (e: unknown) => e instanceof DataError && /^study\.json: is not valid JSON: line 3, column 26: /.test(e.message) && !/position/.test(e.message));
  assert.throws(() => parseJsonFile('{"a": 1', 'f.json'), (e: unknown) => e instanceof DataError && /line 1, column 8: Expected ',' or '}'/.test(e.message));
  assert.deepEqual(parseJsonFile('{"a": [1]}', 'f.json'), { a: [1] });
});

test('parseJsonFile reads a file saved with a UTF-8 byte-order mark (Windows editors add one) as the JSON after it', () => {
  assert.deepEqual(parseJsonFile('\uFEFF{"name": "x"}', 'study.json'), { name: 'x' });
  assert.throws(() => parseJsonFile('\uFEFF{"a": 1', 'f.json'), (e: unknown) => e instanceof DataError && /line 1, column 8: /.test(e.message),
    'positions count from after the mark');
});

test('a key given twice in one object is refused with both lines and where it sits; the same key in two objects is fine', () => {
  assert.equal(duplicateKey('{"a": 1, "b": {"a": 2}, "c": [{"a": 3}, {"a": 4}]}'), null);
  assert.equal(duplicateKey('{"a": "\\"a\\": 1, \\"a\\"", "b": ["a", "a"]}'), null, 'keys inside strings and array values are not keys');
  assert.deepEqual(duplicateKey('{"a": 1, "a": 2}'), { key: 'a', path: '', first: 1, second: 9 });
  assert.equal(duplicateKey('{"a": 1, "\\u0061": 2}')?.key, 'a', 'keys compare unescaped');
  assert.equal(duplicateKey('{"x": {"s": {"k": 1, "k": 2}}}')?.path, 'x.s');
  assert.equal(duplicateKey('{"t": [1, {"k": 1, "k": 2}]}')?.path, 't[]');
  const text = '{\n  "name": "x",\n  "scenario": {\n    "steps": 500,\n    "batchSize": 4,\n    "steps": 3000\n  }\n}';
  assert.throws(() => parseJsonFile(text, 'configs/a.json'), (err: unknown) => {
    assert.ok(err instanceof DataError);
    assert.match(err.message, /^configs\/a\.json: has the key "steps" twice in scenario \(lines 4 and 6\).*fix: remove one/);
    return true;
  });
  assert.deepEqual(parseJsonFile('{"scenario": {"steps": 1}, "steps": 2}', 'b.json'), { scenario: { steps: 1 }, steps: 2 });
});
