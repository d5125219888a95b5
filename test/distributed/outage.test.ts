// The words said when Redis goes away and comes back (src/distributed/outage.ts), on a clock the test moves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isConnectionError, RedisOutage, STILL_AWAY_EVERY_MS } from '../../src/distributed/outage.js';

function scene() {
  const lines: string[] = [];
  let now = 1_000_000;
  const outage = new RedisOutage((l) => lines.push(l), '[worker]', 'redis://h:6379', 'trials go on', () => now);
  return { lines, outage, advance: (ms: number) => (now += ms) };
}

test('the first failure is said with what goes on meanwhile; repeats within a minute are not', () => {
  const { lines, outage, advance } = scene();
  outage.failed('the connection closed');
  advance(2000);
  outage.failed('connect ECONNREFUSED 127.0.0.1:6379');
  advance(STILL_AWAY_EVERY_MS - 2001);
  outage.failed('connect ECONNREFUSED 127.0.0.1:6379');
  assert.deepEqual(lines, ['[worker] lost Redis at redis://h:6379 (the connection closed): trials go on']);
  assert.equal(outage.away, true);
});

test('a Redis away for a minute is mentioned again, with the latest cause and how long', () => {
  const { lines, outage, advance } = scene();
  outage.failed('the connection closed');
  advance(STILL_AWAY_EVERY_MS);
  outage.failed('connect ECONNREFUSED 127.0.0.1:6379');
  advance(STILL_AWAY_EVERY_MS / 2);
  outage.failed('connect ECONNREFUSED 127.0.0.1:6379');
  advance(STILL_AWAY_EVERY_MS / 2);
  outage.failed('connect ECONNREFUSED 127.0.0.1:6379');
  assert.deepEqual(lines.slice(1), [
    '[worker] Redis at redis://h:6379 still unreachable after 60 s (connect ECONNREFUSED 127.0.0.1:6379)',
    '[worker] Redis at redis://h:6379 still unreachable after 120 s (connect ECONNREFUSED 127.0.0.1:6379)',
  ]);
});

test('its return is said once, with the time it was away; a ready connection that was never lost says nothing', () => {
  const { lines, outage, advance } = scene();
  outage.back();
  assert.deepEqual(lines, []);
  outage.failed('the connection closed');
  advance(3500);
  outage.back();
  outage.back();
  assert.deepEqual(lines.slice(1), ['[worker] Redis at redis://h:6379 is back after 3.5 s']);
  assert.equal(outage.away, false);
  // A second outage is a new one.
  outage.failed('the connection closed');
  assert.equal(lines.length, 3);
  assert.match(lines[2]!, /lost Redis/);
});

test('connection errors are told from errors Redis answered with', () => {
  assert.equal(isConnectionError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' })), true);
  assert.equal(isConnectionError(new Error('read ECONNRESET')), true);
  assert.equal(isConnectionError(new Error('Connection is closed.')), true);
  assert.equal(isConnectionError(new Error('Missing key for job 1.0. moveToFinished')), false);
  assert.equal(isConnectionError(new Error('NOAUTH Authentication required.')), false);
  assert.equal(isConnectionError(null), false);
});
