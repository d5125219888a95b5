// The importance chart's data: bars largest first, a note instead of an empty chart when there is no model yet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { importanceData } from '../../dashboard/data/importance.js';

test('importance: bars largest first; the reason shown when there is no model', () => {
  const d = importanceData({ available: true, status: 'available', importance: { warmup: 0.05, rmaxFinal: 0.6, dmaxFinal: 0.35 } });
  assert.ok(!('note' in d));
  assert.deepEqual(d.labels, ['rmaxFinal', 'dmaxFinal', 'warmup']);
  assert.deepEqual(d.datasets[0]!.data, [0.6, 0.35, 0.05]);
  const none = importanceData({ available: false, status: 'too-few-trials', reason: 'too few finished trials' });
  assert.ok('note' in none && /too few finished trials/.test(none.note));
  assert.ok('note' in importanceData(null));
});

test('importance on a flat model: a note saying it is unavailable and why, never equal bars', () => {
  const flat = importanceData({ available: false, status: 'flat', reason: 'the model sees no variation: every finished trial has the same value' });
  assert.ok('note' in flat, 'a flat model must not be drawn as bars');
  assert.equal(flat.note, 'Importance is unavailable: the model sees no variation: every finished trial has the same value.');
  const failed = importanceData(null, 'HTTP 503');
  assert.ok('note' in failed && /could not be loaded: HTTP 503/.test(failed.note));
});

test('importance: a tentative share is labelled and drawn pale, the others in the usual colour', () => {
  const d = importanceData({ available: true, status: 'available', importance: { rmaxFinal: 0.6, warmup: 0.3, dmaxFinal: 0.1 }, tentative: ['warmup'], observations: 73 });
  assert.ok(!('note' in d));
  assert.equal(d.foot, 'From 73 finished trials.', 'past 60 trials the shares can lag a few trials: say which ones they describe');
  assert.deepEqual(d.labels, ['rmaxFinal', 'warmup (tentative)', 'dmaxFinal']);
  const colours = d.datasets[0]!.backgroundColor as string[];
  assert.equal(colours[0], colours[2]);
  assert.notEqual(colours[1], colours[0], 'the tentative bar must look different');
});
