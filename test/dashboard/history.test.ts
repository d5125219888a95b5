// Optimization history: best-so-far by direction, only complete trials count, baselines as horizontal lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bestSoFar, historyData } from '../../dashboard/data/history.js';
import { trial } from './fixtures/study.js';

const trials = [
  trial({ id: 1, role: 'baseline:batchnorm', value: 0.8 }),
  trial({ id: 2, role: 'baseline:paper', value: 0.85 }),
  trial({ id: 3, value: 0.83 }),
  trial({ id: 4, value: 0.95, state: 'PRUNED' }),
  trial({ id: 5, value: null, state: 'FAIL' }),
  trial({ id: 6, value: 0.9 }),
  trial({ id: 7, value: 0.7 }),
  trial({ id: 8, role: 'final:best', value: 0.99 }),
];

test('best so far follows the direction and ignores pruned, failed and final-validation trials', () => {
  assert.deepEqual(bestSoFar(trials, 'maximize').map((p) => p.y), [0.8, 0.85, 0.85, 0.85, 0.85, 0.9, 0.9]);
  assert.deepEqual(bestSoFar(trials, 'minimize').map((p) => p.y), [0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.7]);
  assert.deepEqual(bestSoFar(trials, 'maximize').map((p) => p.x), [0, 1, 2, 3, 4, 5, 6]);
});

test('history splits trials by state, counts unplotted ones and draws both baselines across the x range', () => {
  const h = historyData(trials, 'maximize', { batchnorm: 0.8, paper: 0.85 });
  const byLabel = new Map(h.datasets.map((d) => [d.label, d]));
  assert.equal(byLabel.get('trial (complete)')!.data.length, 5);
  assert.equal(byLabel.get('trial (pruned)')!.data.length, 1);
  assert.equal(byLabel.get('trial (failed)'), undefined, 'a failed trial has no value to plot');
  assert.equal(h.unplotted, 1);
  assert.deepEqual(byLabel.get('BatchNorm baseline')!.data, [{ x: 0, y: 0.8 }, { x: 6, y: 0.8 }]);
  assert.deepEqual(byLabel.get('paper schedule baseline')!.data, [{ x: 0, y: 0.85 }, { x: 6, y: 0.85 }]);
  const bsf = byLabel.get('best so far')!.data as Array<{ x: number; y: number }>;
  assert.deepEqual(bsf[bsf.length - 1], { x: 6, y: 0.9 });
  const point = byLabel.get('trial (complete)')!.data[0] as { trialId: number; name: string };
  assert.equal(point.trialId, 1);
  assert.equal(point.name, 'BatchNorm');
});

test('no baselines and no trials give no datasets rather than NaN lines', () => {
  const h = historyData([], 'maximize', { batchnorm: null, paper: null });
  assert.deepEqual(h.datasets, []);
  assert.equal(h.unplotted, 0);
});

test('one diverged value among values near 1 gives the history a y range over the ordinary values, not up to 1e30', () => {
  const values = [0.92, 1.04, 0.98, 1.11, 0.87, 1e30, 1.0, 0.95];
  const h = historyData(values.map((value, i) => trial({ id: i + 1, value })), 'minimize', { batchnorm: null, paper: null });
  assert.ok(h.yRange, 'a value 1e30 among values near 1 should set the range');
  assert.ok(h.yRange.min > 0.8 && h.yRange.max < 1.2, JSON.stringify(h.yRange));
  assert.deepEqual(h.yRange.off, [1e30]);
  assert.equal(historyData(trials, 'maximize', { batchnorm: 0.8, paper: 0.85 }).yRange, null, 'ordinary values scale as before');
});
