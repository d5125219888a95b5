// Parameter views: axis normalisation (linear, log, categorical), slices and parallel coordinates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalize, paramInfo, parallelData, sliceData } from '../../dashboard/data/params.js';
import { gpSliceData } from '../../dashboard/data/gp.js';
import { fixtureStudy, trial } from './fixtures/study.js';

const trials = [
  trial({ id: 1, value: 0.5, params: { a: 1, lr: 0.001, shape: 'linear' } }),
  trial({ id: 2, value: 0.9, params: { a: 3, lr: 0.1, shape: 'cosine' } }),
  trial({ id: 3, value: 0.7, params: { a: 2, lr: 0.01, shape: 'linear' } }),
];

test('param types come from the values, log scaling and bounds from the space', () => {
  const info = paramInfo(trials, { lr: { type: 'float', low: 0.001, high: 0.1, log: true } });
  const by = Object.fromEntries(info.map((p) => [p.name, p]));
  assert.equal(by.a.type, 'numeric');
  assert.equal(by.a.log, false);
  assert.equal(by.shape.type, 'categorical');
  assert.deepEqual(by.shape.choices, ['cosine', 'linear'], 'sorted, so axes do not flip as trials arrive');
  assert.deepEqual(paramInfo(trials, { shape: { type: 'categorical', choices: ['linear', 'cosine', 'exponential'] } }).find((p) => p.name === 'shape')!.choices, ['linear', 'cosine', 'exponential']);
  assert.equal(normalize(by.a, 2), 0.5);
  assert.ok(Math.abs(normalize(by.lr, 0.01) - 0.5) < 1e-12, 'log axis puts the geometric midpoint in the middle');
  assert.equal(normalize(by.shape, 'cosine'), 0);
  assert.equal(normalize(by.shape, 'linear'), 1);
  assert.ok(Number.isNaN(normalize(by.a, undefined)));
});

test('slices: one per parameter, every trial with a value, categories as strings', () => {
  const { slices: s, drawn, total } = sliceData(trials, 'maximize');
  assert.deepEqual([drawn, total], [3, 3]);
  assert.deepEqual(s.map((x) => x.param.name), ['a', 'lr', 'shape']);
  assert.deepEqual(s[2].datasets[0].data.map((p) => (p as { x: string }).x), ['linear', 'cosine', 'linear']);
  assert.equal((s[0].datasets[0].pointBackgroundColor as string[]).length, 3);
});

test('parallel coordinates: best line last and brightest, objective axis normalised to [0, 1]', () => {
  const p = parallelData(trials, 'maximize');
  assert.equal(p.labels.length, 4);
  assert.equal(p.labels[3][0], 'objective');
  assert.equal(p.datasets.length, 3);
  const last = p.datasets[2];
  assert.equal(last.trialId, 2);
  // Trial 2: largest a and lr, shape 'cosine' (first sorted category), best objective.
  assert.deepEqual(last.data, [1, 1, 0, 1]);
  assert.deepEqual(p.datasets[0].data, [0, 0, 1, 0]);
  const min = parallelData(trials, 'minimize');
  assert.equal(min.datasets[2].trialId, 1, 'minimising: the smallest value is the best line');
});

test('parallel coordinates cap the number of lines to the best ones', () => {
  const v = fixtureStudy(300, 5);
  const p = parallelData(v.trials, v.direction, undefined, 150);
  assert.equal(p.drawn, 150);
  assert.ok(p.total > 150);
});

test('slices of a study past the cap draw the best quarter and an even sample of the rest, in trial order', () => {
  // 5,000 trials whose value is the trial number: minimizing, the best are the first numbers.
  const many = Array.from({ length: 5000 }, (_, i) => trial({ id: i + 1, number: i, value: i, params: { a: (i * 7919) % 5000 } }));
  const { slices, drawn, total } = sliceData(many, 'minimize', undefined, 400);
  assert.deepEqual([drawn, total], [400, 5000]);
  const ids = slices[0]!.datasets[0]!.data.map((p) => (p as { trialId: number }).trialId);
  assert.equal(new Set(ids).size, 400, 'no trial twice');
  assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'in trial order, so colours still run from early to late');
  for (let id = 1; id <= 100; id++) assert.ok(ids.includes(id), `best trial ${id} drawn`);
  const rest = ids.filter((id) => id > 100);
  assert.equal(rest.length, 300);
  assert.ok(rest[rest.length - 1]! > 4900, `the sample reaches the latest trials: ${rest[rest.length - 1]}`);
  const gaps = rest.slice(1).map((id, k) => id - rest[k]!);
  assert.ok(Math.max(...gaps) - Math.min(...gaps) <= 1, `evenly spaced: gaps ${Math.min(...gaps)}-${Math.max(...gaps)}`);
  // Maximizing, the best are the last numbers.
  const top = sliceData(many, 'maximize', undefined, 400).slices[0]!.datasets[0]!.data.map((p) => (p as { trialId: number }).trialId);
  for (let id = 4901; id <= 5000; id++) assert.ok(top.includes(id), `best trial ${id} drawn when maximizing`);
});

test('GP slice: band is mean ± 2 std, acquisition on the second axis, best point marked', () => {
  const g = gpSliceData({ name: 'warmup', type: 'float', x: [0, 0.5, 1], mean: [0.8, 0.9, 0.85], std: [0.01, 0.02, 0.05], acquisition: [-3, -1, -2] }, { warmup: 0.5 });
  const by = Object.fromEntries(g.datasets.map((d) => [d.label, d]));
  assert.deepEqual(by['mean + 2 std'].data.map((p) => (p as { y: number }).y), [0.8 + 0.02, 0.9 + 0.04, 0.85 + 0.1]);
  assert.deepEqual(by['mean − 2 std'].data.map((p) => (p as { y: number }).y), [0.8 - 0.02, 0.9 - 0.04, 0.85 - 0.1]);
  assert.equal(by.acquisition.yAxisID, 'y2');
  assert.deepEqual(by['best point'].data, [{ x: 0.5, y: 0.9 }]);
});

test('a diverged 1e30 among values near 1: slices get a y range over the ordinary values, parallel coordinates spread them over the objective axis', () => {
  const values = [0.92, 1.04, 0.98, 1e30, 1.11, 0.87, 1.0, 0.95];
  const ts = values.map((value, i) => trial({ id: i + 1, value, params: { a: i } }));
  const [slice] = sliceData(ts, 'minimize').slices;
  assert.ok(slice!.yRange && slice!.yRange.max < 1.2, JSON.stringify(slice!.yRange));
  const p = parallelData(ts, 'minimize');
  const objective = p.datasets.filter((d) => d.trialId !== 4).map((d) => d.data[d.data.length - 1] as number);
  assert.ok(Math.max(...objective) - Math.min(...objective) > 0.9, `ordinary values should span the objective axis: ${objective}`);
  assert.match(p.labels[p.labels.length - 1]![1]!, /\(1 off the scale\)$/);
});
