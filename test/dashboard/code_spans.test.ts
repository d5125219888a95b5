import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codeSpans } from '../../dashboard/data/code_spans.js';

const join = (spans: ReturnType<typeof codeSpans>) => spans.map((s) => (s.code ? `\`${s.text}\`` : s.text)).join('');

test('codeSpans: each backtick pair becomes a code span between the prose around it', () => {
  assert.deepEqual(codeSpans('Start `renorm-tune worker --db x` on a training machine.'), [
    { text: 'Start ', code: false },
    { text: 'renorm-tune worker --db x', code: true },
    { text: ' on a training machine.', code: false },
  ]);
  assert.deepEqual(codeSpans('`a` and `b`'), [{ text: 'a', code: true }, { text: ' and ', code: false }, { text: 'b', code: true }]);
});

test('codeSpans: text without backticks is one prose span; empty text is none', () => {
  assert.deepEqual(codeSpans('no quotes here'), [{ text: 'no quotes here', code: false }]);
  assert.deepEqual(codeSpans(''), []);
});

test('codeSpans: an unpaired or empty quote stays in the prose, so no character is lost', () => {
  assert.deepEqual(codeSpans('a ` stray'), [{ text: 'a ` stray', code: false }]);
  assert.deepEqual(codeSpans('`x` then `unclosed'), [{ text: 'x', code: true }, { text: ' then `unclosed', code: false }]);
  assert.deepEqual(codeSpans('empty `` pair'), [{ text: 'empty `` pair', code: false }]);
  for (const s of ['`', '``', '```', '`a``b`', 'x`y`z`', '` `', 'a `b` c `` d `e']) {
    assert.equal(join(codeSpans(s)), s, `round trip of ${JSON.stringify(s)}`);
  }
});
