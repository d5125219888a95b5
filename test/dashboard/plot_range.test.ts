// Plotted coordinates past ±PLOT_LIMIT are drawn at the limit (chart.js cannot draw an axis up to Number.MAX_VALUE).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PLOT_LIMIT, plottable } from '../../dashboard/data/plot_range.js';
import type { Series } from '../../dashboard/types.js';

test('points, bare numbers and interval bars past the limit are drawn at it; a point keeps its true value', () => {
  const [points, bars, numbers] = plottable([
    { label: 'trials', data: [{ x: 0, y: 0.5, trialId: 1, name: '#0' }, { x: 1, y: Number.MAX_VALUE, trialId: 2, name: '#1' }, { x: 2, y: -Number.MAX_VALUE }, { x: 3, y: null }] },
    { label: 'ci', data: [[-Number.MAX_VALUE, 1], null, [0, 1]] },
    { label: 'shares', data: [0.2, 1e308] },
  ]);
  assert.deepEqual(points.data, [
    { x: 0, y: 0.5, trialId: 1, name: '#0' },
    { x: 1, y: PLOT_LIMIT, trialId: 2, name: '#1', beyond: Number.MAX_VALUE },
    { x: 2, y: -PLOT_LIMIT, beyond: -Number.MAX_VALUE },
    { x: 3, y: null },
  ]);
  assert.deepEqual(bars.data, [[-PLOT_LIMIT, 1], null, [0, 1]]);
  assert.deepEqual(numbers.data, [0.2, PLOT_LIMIT]);
});

test('datasets within the limit come back as the same objects (nothing copied on the common path)', () => {
  const series: Series[] = [{ label: 'a', data: [{ x: 0, y: 1e299 }, { x: 'paper', y: -3 }] }, { label: 'b', data: [[1, 2]] }];
  const out = plottable(series);
  assert.equal(out[0], series[0]);
  assert.equal(out[1], series[1]);
});

test('with a chart\'s y range, points outside it are pinned at its edge as triangles pointing off the chart, keeping their true value', () => {
  const [scatter, line, right] = plottable(
    [
      { label: 'trials', data: [{ x: 0, y: 1 }, { x: 1, y: 1e30 }, { x: 2, y: -5 }], type: 'scatter', pointRadius: 4 },
      { label: 'best so far', data: [{ x: 0, y: 1e30 }, { x: 1, y: 1 }], type: 'line', pointRadius: 0 },
      { label: 'acquisition', data: [{ x: 0, y: 1e30 }], yAxisID: 'y2' },
    ],
    { min: 0, max: 2 },
  );
  assert.deepEqual(scatter.data, [{ x: 0, y: 1 }, { x: 1, y: 2, beyond: 1e30 }, { x: 2, y: 0, beyond: -5 }]);
  assert.deepEqual(scatter.pointStyle, ['circle', 'triangle', 'triangle']);
  assert.deepEqual(scatter.rotation, [0, 0, 180]);
  assert.deepEqual(scatter.pointRadius, [4, 7, 7]);
  assert.deepEqual(line.data, [{ x: 0, y: 2, beyond: 1e30 }, { x: 1, y: 1 }]);
  assert.equal(line.pointStyle, undefined, 'a line without points gets no markers');
  assert.deepEqual(right.data, [{ x: 0, y: 1e30 }], 'the range is the main axis\'s; a second axis keeps its own');
});
