// The soak's rule for a trial that trained twice: a fault between its two starts explains it, or one whose effect
// lands late (a worker that read the study RUNNING just before a Ctrl-C stopped it) shortly before the first start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { explainRestarts, type FaultEvent } from './invariants.js';

type F = 'interrupt' | 'kill';
const starts = new Map([['#6', [{ pid: 10, ms: 10_000 }, { pid: 10, ms: 13_530 }]]]);
const every = new Set<F>(['interrupt']);
const its = new Set<F>(['kill']);
const unexplained = (events: FaultEvent<F>[], lateBy: Partial<Record<F, number>> = {}) => explainRestarts(starts, events, every, its, lateBy).problems.length;

test('a fault between the two starts explains a restart; one before the first start only within its lateness', () => {
  assert.equal(unexplained([{ kind: 'interrupt', ms: 12_000 }]), 0);
  assert.equal(unexplained([{ kind: 'interrupt', ms: 9_556 }]), 1, 'before the first start, with no lateness allowed');
  assert.equal(unexplained([{ kind: 'interrupt', ms: 9_556 }], { interrupt: 3000 }), 0, 'a Ctrl-C whose stop landed after the start');
  assert.equal(unexplained([{ kind: 'interrupt', ms: 6_000 }], { interrupt: 3000 }), 1, 'too long before');
  assert.equal(unexplained([{ kind: 'kill', ms: 12_000, pid: 11 }]), 1, 'a kill of another process explains nothing');
  assert.equal(unexplained([{ kind: 'kill', ms: 12_000, pid: 10 }]), 0);
  assert.equal(unexplained([{ kind: 'interrupt', ms: 14_000 }]), 1, 'after the restart');
  assert.equal(explainRestarts(starts, [], every, its).retrained, 1);
});
