// The trust-region machine replayed over value sequences: when it opens, how local and global alternate, TuRBO's side schedule, and the box.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchMode, failStreak, INITIAL_LENGTH, MIN_LENGTH, stallAfter, SUCCESS_STREAK, trustRegionBox, trustRegionState } from '../../src/optimizer/trust_region.js';
import type { DimSpec } from '../../src/gp/optimize_acqf.js';

const d = 4; // stallAfter 4, failStreak 3
const design = [5, 4, 6, 3, 7];

test('the global model proposes while it improves, and stalls after stallAfter(d) observations without improvement', () => {
  assert.equal(stallAfter(d), 4);
  assert.equal(trustRegionState(design, design.length, d).mode, 'global');
  assert.equal(trustRegionState([...design, 2, 1, 0.5], design.length, d).mode, 'global');
  assert.equal(trustRegionState([...design, 9, 9, 9], design.length, d).mode, 'global');
  const stalled = trustRegionState([...design, 9, 9, 9, 9], design.length, d);
  assert.deepEqual(stalled, { mode: 'local', length: INITIAL_LENGTH, since: 4, localStreak: false });
  // A failed trial (null) is no improvement either.
  assert.equal(trustRegionState([...design, null, 9, null, 9], design.length, d).mode, 'local');
});

test('once stalled, local and global alternate; a local improvement is followed by another local proposal', () => {
  const stalled = [...design, 9, 9, 9, 9];
  assert.equal(trustRegionState([...stalled, 9], design.length, d).mode, 'global');
  assert.equal(trustRegionState([...stalled, 9, 9], design.length, d).mode, 'local');
  // The local proposal improved: stay local.
  assert.equal(trustRegionState([...stalled, 2], design.length, d).mode, 'local');
  // A global improvement ends the stall.
  assert.equal(trustRegionState([...stalled, 9, 2], design.length, d).mode, 'global');
});

test('a batch (or pending trials) continues the alternation member by member', () => {
  const stalled = trustRegionState([...design, 9, 9, 9, 9], design.length, d);
  assert.deepEqual([0, 1, 2, 3].map((b) => batchMode(stalled, b, d)), ['local', 'global', 'local', 'global']);
  const fresh = trustRegionState([...design, 2], design.length, d);
  assert.deepEqual([0, 1, 2, 3, 4].map((b) => batchMode(fresh, b, d)), ['global', 'global', 'global', 'global', 'local']);
});

test("TuRBO's schedule: failStreak local failures halve the side, SUCCESS_STREAK local successes double it, collapse restarts it", () => {
  const stalled = [...design, 9, 9, 9, 9];
  // Local failures come every other observation (global ones in between); 3 of them halve the side.
  const localFails = (k: number) => Array.from({ length: 2 * k }, () => 9);
  assert.equal(failStreak(d), 3);
  assert.equal(trustRegionState([...stalled, ...localFails(3)], design.length, d).length, INITIAL_LENGTH / 2);
  assert.equal(trustRegionState([...stalled, ...localFails(6)], design.length, d).length, INITIAL_LENGTH / 4);
  // 5 halvings reach MIN_LENGTH = INITIAL_LENGTH / 32 itself; only a sixth, dropping below it, restarts the region.
  assert.equal(trustRegionState([...stalled, ...localFails(15)], design.length, d).length, MIN_LENGTH);
  assert.equal(trustRegionState([...stalled, ...localFails(18)], design.length, d).length, INITIAL_LENGTH, 'a collapsed region restarts');
  // SUCCESS_STREAK local improvements in a row (each followed by another local proposal) double it.
  const wins = Array.from({ length: SUCCESS_STREAK }, (_, i) => 2 - i * 0.5);
  assert.equal(trustRegionState([...stalled, ...localFails(3), ...wins], design.length, d).length, INITIAL_LENGTH);
});

test('the box contains the centre, stays in [0, 1], is longer along longer lengthscales, and leaves categoricals free', () => {
  const dims: DimSpec[] = [{ kind: 'continuous' }, { kind: 'continuous' }, { kind: 'categorical', choices: 3 }];
  const center = Float64Array.from([0.1, 0.5, 2]);
  const box = trustRegionBox(center, Float64Array.from([0.2, 0.8, 0.01]), 0.4, dims);
  for (let j = 0; j < 2; j++) assert.ok(box.lower[j]! <= center[j]! && center[j]! <= box.upper[j]! && box.lower[j]! >= 0 && box.upper[j]! <= 1);
  assert.equal(box.lower[0], 0, 'clipped at the bound');
  // Weights l / geomean(l): 0.5 and 2 -> sides 0.2 and 0.8.
  assert.ok(Math.abs(box.upper[1]! - box.lower[1]! - 0.8) < 1e-12, `side ${box.upper[1]! - box.lower[1]!}`);
  assert.ok(Math.abs(box.upper[0]! - 0.2) < 1e-12, `upper ${box.upper[0]}`);
  assert.deepEqual([box.lower[2], box.upper[2]], [0, 1]);
});
