// The memory of waited-out lock holders: only an idle holder is remembered, and the warning that it still holds the
// lock comes at most once a minute per study.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { STILL_HELD_WARN_MS, WaitedOut, type LockHolder } from '../../../src/study/storage/pg_lock_holder.js';

const holder = (state: string | null, identity = '7@t0@t1'): LockHolder => ({ pid: 7, addr: null, app: 'x', state, seconds: 3, identity });

it('remembers an idle holder, not one running a statement or none at all, and forgets on request', () => {
  const w = new WaitedOut();
  w.remember('a', holder('idle'), 0);
  w.remember('b', holder('active'), 0);
  w.remember('c', null, 0);
  assert.equal(w.identity('a'), '7@t0@t1');
  assert.equal(w.identity('b'), undefined, 'a holder running a statement is working: it is waited for each time');
  assert.equal(w.identity('c'), undefined);
  w.remember('a', holder('idle in transaction'), 1);
  assert.equal(w.identity('a'), undefined, 'remembering a non-idle holder replaces the idle one');
  w.remember('a', holder('idle'), 1);
  w.forget('a');
  assert.equal(w.identity('a'), undefined);
});

it('says again that a remembered holder still holds the lock at most once a minute, per study', () => {
  const w = new WaitedOut();
  w.remember('a', holder('idle'), 1_000);
  w.remember('b', holder('idle'), 30_000);
  assert.equal(w.warnAgain('a', 1_000 + STILL_HELD_WARN_MS - 1), false, 'the wait given up was warned of already');
  assert.equal(w.warnAgain('a', 1_000 + STILL_HELD_WARN_MS), true);
  assert.equal(w.warnAgain('a', 1_000 + STILL_HELD_WARN_MS + 1), false, 'then a minute after that');
  assert.equal(w.warnAgain('b', 1_000 + STILL_HELD_WARN_MS), false, 'each study keeps its own time');
  assert.equal(w.warnAgain('c', 10 ** 9), false, 'no holder remembered, nothing to say');
});
