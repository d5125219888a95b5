// The coordinator's queue depth and its advice when no worker is there (src/distributed/depth.ts), on a clock the test moves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Depth } from '../../src/distributed/depth.js';

function scene(fixed?: number) {
  const lines: string[] = [];
  let now = 1_000_000;
  let workers: { slots: number }[] | Error = [];
  const presence = {
    workers: async () => {
      if (workers instanceof Error) throw workers;
      return workers as never;
    },
  };
  const depth = new Depth(presence, fixed, (l) => lines.push(l), ' --redis redis://q:6379 --redis-prefix p', () => now);
  return { lines, depth, advance: (ms: number) => (now += ms), set: (w: { slots: number }[] | Error) => (workers = w) };
}

const START = 'start `npx renorm-tune worker --db <same database> --redis redis://q:6379 --redis-prefix p` on each training machine';

test('the depth is the live workers\' slots (at least 1), or the fixed --queue-depth', async () => {
  const s = scene();
  assert.equal(await s.depth.value(), 1);
  s.set([{ slots: 2 }, { slots: 3 }]);
  assert.equal(await s.depth.value(), 5);
  // Redis away for a moment: the last known size.
  s.set(new Error('connect ECONNREFUSED'));
  assert.equal(await s.depth.value(), 5);
  const f = scene(7);
  f.set([{ slots: 2 }]);
  assert.equal(await f.depth.value(), 7);
});

test('no worker for 5 s at the start: the advice is said once', async () => {
  const s = scene();
  await s.depth.value();
  s.advance(5001);
  await s.depth.value();
  s.advance(60_000);
  await s.depth.value();
  assert.deepEqual(s.lines, [`[queue] no worker has announced itself yet: ${START}`]);
});

test('every worker gone for 5 s after some came: said once per stretch, again after workers came and went again', async () => {
  const s = scene();
  s.set([{ slots: 1 }]);
  await s.depth.value();
  s.set([]);
  await s.depth.value();
  s.advance(4000);
  await s.depth.value();
  assert.deepEqual(s.lines, [], 'not before 5 s without workers');
  s.advance(1001);
  await s.depth.value();
  s.advance(30_000);
  await s.depth.value();
  const left = `[queue] every worker has left (stopped, killed, or its machine lost): nothing trains until one comes; ${START}`;
  assert.deepEqual(s.lines, [left]);
  s.set([{ slots: 2 }]);
  await s.depth.value();
  s.set([]);
  await s.depth.value();
  s.advance(5001);
  await s.depth.value();
  assert.deepEqual(s.lines, [left, left]);
});
