// The shared option parsers: integers at or above their minimum pass; anything else is a ConfigError naming the flag and an example.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deviceList, nonNegativeInt, portNumber, positiveInt } from '../../src/cli/options.js';
import { ConfigError } from '../../src/errors.js';

test('positiveInt takes 1 and up; nonNegativeInt also takes 0; both refuse fractions, negatives, words and blanks with the flag named', () => {
  assert.equal(positiveInt('--seeds')('3'), 3);
  assert.equal(nonNegativeInt('--first-seed')('0'), 0);
  assert.equal(nonNegativeInt('--first-seed')('10'), 10);
  for (const [parse, raw, msg] of [
    [positiveInt('--seeds'), '0', /--seeds.*positive integer.*'0'/s],
    [positiveInt('--seeds'), '2.5', /--seeds/],
    [nonNegativeInt('--first-seed'), '-1', /--first-seed.*integer >= 0.*'-1'/s],
    [nonNegativeInt('--first-seed'), 'ten', /--first-seed/],
    [nonNegativeInt('--first-seed'), ' ', /--first-seed/],
    // Number() would take these as 16, 100 and 3: only decimal digits are a count.
    [positiveInt('--seeds'), '0x10', /--seeds.*'0x10'/s],
    [positiveInt('--seeds'), '1e2', /--seeds.*'1e2'/s],
    [nonNegativeInt('--first-seed'), '0b11', /--first-seed.*'0b11'/s],
  ] as const) {
    assert.throws(() => parse(raw), (e: unknown) => e instanceof ConfigError && msg.test(e.message) && /e\.g\./.test(e.message), raw);
  }
});

test('deviceList takes distinct GPU indices; names, blanks, negatives and repeats are refused naming --devices and the fix', () => {
  assert.equal(deviceList(undefined), undefined);
  assert.deepEqual(deviceList('0'), ['0']);
  assert.deepEqual(deviceList('0, 1,3'), ['0', '1', '3']);
  for (const [raw, msg] of [
    ['a,b', /--devices: must be a comma-separated list of GPU indices.*got "a,b" \('a' is not one\)/],
    ['0,', /an empty entry/],
    ['', /an empty entry/],
    ['-1', /'-1' is not one/],
    ['1.5', /'1.5' is not one/],
    ['cuda:0', /'cuda:0' is not one/],
    ['0,1,0', /--devices: lists GPU 0 twice/],
    ['1,01', /--devices: lists GPU 1 twice/],
  ] as const) {
    assert.throws(() => deviceList(raw), (e: unknown) => e instanceof ConfigError && e.field === '--devices' && msg.test(e.message) && /e\.g\. --devices 0,1/.test(e.fix ?? ''), raw);
  }
});

test('portNumber takes 0 to 65535 and echoes anything else as typed (it said "got NaN")', () => {
  assert.equal(portNumber('0'), 0);
  assert.equal(portNumber('8080'), 8080);
  assert.equal(portNumber('65535'), 65535);
  for (const raw of ['abc', '', ' ', '-1', '80.5', '65536', '1e3', '0x50']) {
    assert.throws(() => portNumber(raw), (e: unknown) => e instanceof ConfigError && e.field === '--port'
      && e.message.includes(`must be an integer in [0, 65535], got ${JSON.stringify(raw)}`) && /e\.g\. --port 8080/.test(e.fix ?? ''), raw);
  }
});
