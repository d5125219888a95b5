// The kept copy of a study's listing: changes merge in place, newer changes win, new trials land in number order, records come back frozen.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TrialLists } from '../../../src/study/storage/trial_lists.js';
import type { TrialRecord } from '../../../src/study/types.js';

const trial = (id: number, number: number, value: number | null = null): TrialRecord => ({
  id, studyId: 's', number, state: value === null ? 'WAITING' : 'COMPLETE', role: 'search', params: { warmup: id }, schedule: { kind: 'batchnorm' },
  value, failureReason: null, seed: 1, metrics: null, intermediate: [], lease: null, retries: 0, claims: 0, pruneRequested: false,
  createdAt: 'x', startedAt: null, finishedAt: null,
});
const listed = (lists: TrialLists, revision: number, changed: [TrialRecord, number][]) =>
  lists.merge('s', revision, changed.map(([record, rev]) => ({ record, rev })));
const shape = (ts: TrialRecord[]) => ts.map((t) => [t.number, t.value]);

describe('TrialLists', () => {
  it('lists in number order however the rows came, and remembers the revision to read after', () => {
    const lists = new TrialLists();
    assert.equal(lists.since('s'), -1);
    assert.deepEqual(shape(listed(lists, 5, [[trial(3, 2), 3], [trial(1, 0), 1], [trial(2, 1), 2]])), [[0, null], [1, null], [2, null]]);
    assert.equal(lists.since('s'), 5);
  });

  it('changes a trial in place; an older change read late never replaces a newer one', () => {
    const lists = new TrialLists();
    listed(lists, 3, [[trial(1, 0), 1], [trial(2, 1), 2], [trial(3, 2), 3]]);
    assert.deepEqual(shape(listed(lists, 4, [[trial(2, 1, 0.5), 4]])), [[0, null], [1, 0.5], [2, null]]);
    assert.deepEqual(shape(listed(lists, 3, [[trial(2, 1), 2]])), [[0, null], [1, 0.5], [2, null]], 'a slower reader\'s older row');
    assert.equal(lists.since('s'), 4, 'the revision never goes back');
  });

  it('appends new trials, and sorts in one whose number is below the last (created earlier, seen later)', () => {
    const lists = new TrialLists();
    listed(lists, 2, [[trial(1, 0), 1], [trial(3, 2), 2]]);
    assert.deepEqual(shape(listed(lists, 4, [[trial(5, 4), 4], [trial(4, 3), 3]])).map(([n]) => n), [0, 2, 3, 4]);
    assert.deepEqual(shape(listed(lists, 5, [[trial(2, 1), 5]])).map(([n]) => n), [0, 1, 2, 3, 4]);
    assert.deepEqual(shape(listed(lists, 6, [[trial(3, 2, 0.9), 6], [trial(6, 5), 6]])), [[0, null], [1, null], [2, 0.9], [3, null], [4, null], [5, null]],
      'after a sort-in, changes still land in their place');
  });

  it('lists a trial read twice in one batch once: the later read of an equal change, else the newer change', () => {
    const lists = new TrialLists();
    assert.deepEqual(shape(listed(lists, 2, [[trial(1, 0, 0.1), 2], [trial(1, 0, 0.2), 2], [trial(2, 1, 0.3), 2], [trial(2, 1, 0.4), 1]])), [[0, 0.2], [1, 0.3]]);
    assert.deepEqual(shape(listed(lists, 3, [[trial(1, 0, 0.5), 3], [trial(1, 0, 0.6), 3]])), [[0, 0.6], [1, 0.3]]);
  });

  it('hands out a copy of the list and frozen records', () => {
    const lists = new TrialLists();
    const first = listed(lists, 1, [[trial(1, 0), 1]]);
    first.pop();
    assert.equal(listed(lists, 1, []).length, 1);
    const [t] = listed(lists, 1, []);
    assert.ok(Object.isFrozen(t) && Object.isFrozen(t!.params));
  });
});
