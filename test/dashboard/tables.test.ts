// Trial table sorting, CSV export, final-validation bars and headline gains.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sortRows, tableRows } from '../../dashboard/data/table.js';
import { csvCell, trialsCsv } from '../../dashboard/data/csv.js';
import { finalData } from '../../dashboard/data/final.js';
import { formatGain, formatValue, gain, summaryMetric, summaryRow } from '../../dashboard/data/summary.js';
import { fixtureStudy, trial } from './fixtures/study.js';

const rows = tableRows([
  trial({ id: 1, number: 0, value: 0.5, params: { shape: 'linear', w: 0.3 } }),
  trial({ id: 2, number: 1, value: null, state: 'FAIL', params: { shape: 'cosine', w: 0.1 } }),
  trial({ id: 3, number: 2, value: 0.9, params: { shape: 'exponential', w: 0.2 } }),
  trial({ id: 4, number: 3, value: 0.5, params: { shape: 'linear' } }),
]);

test('sorting by value puts missing values last in both directions and keeps ties in trial order', () => {
  assert.deepEqual(sortRows(rows, 'value', true).map((r) => r.id), [1, 4, 3, 2]);
  assert.deepEqual(sortRows(rows, 'value', false).map((r) => r.id), [3, 1, 4, 2]);
});

test('sorting by a numeric or categorical parameter', () => {
  assert.deepEqual(sortRows(rows, 'param:w', true).map((r) => r.id), [2, 3, 1, 4]);
  assert.deepEqual(sortRows(rows, 'param:shape', true).map((r) => r.id), [2, 3, 1, 4]);
  assert.deepEqual(sortRows(rows, 'state', false).map((r) => r.state), ['FAIL', 'COMPLETE', 'COMPLETE', 'COMPLETE']);
});

/** An independent RFC 4180 reader, so the writer is checked by parsing rather than by string comparison. */
function parseCsv(text: string): string[][] {
  const out: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(cell), (cell = '');
    else if (c === '\r' && text[i + 1] === '\n') row.push(cell), out.push(row), (row = []), (cell = ''), i++;
    else cell += c;
  }
  return out;
}

test('CSV round-trips awkward strings and defuses spreadsheet formulas', () => {
  const t = trial({ id: 7, value: 0.75, params: { shape: '=HYPERLINK("x")', w: 0.25 }, failureReason: 'bad "quote", comma\nnewline' });
  const parsed = parseCsv(trialsCsv([t]));
  assert.equal(parsed.length, 2);
  const [header, row] = parsed;
  const col = (name: string) => row[header.indexOf(name)];
  assert.equal(col('failure_reason'), 'bad "quote", comma\nnewline');
  assert.equal(col('param_shape'), `'=HYPERLINK("x")`);
  assert.equal(col('role'), 'search');
  assert.equal(col('value'), '0.75');
  assert.equal(col('param_w'), '0.25');
  assert.equal(csvCell(-0.5), '-0.5', 'negative numbers stay numbers');
  assert.equal(csvCell(null), '');
});

test('CSV has one row per trial and a column per parameter seen in any trial', () => {
  const v = fixtureStudy(10);
  const parsed = parseCsv(trialsCsv(v.trials));
  assert.equal(parsed.length, v.trials.length + 1);
  assert.ok(parsed[0].includes('param_rmaxFinal') && parsed[0].includes('param_shape'));
  assert.ok(parsed.every((r) => r.length === parsed[0].length));
});

test('final validation: CI bars, per-seed dots and means from the study view', () => {
  const v = fixtureStudy(4);
  const f = finalData(v.finalValidation)!;
  assert.deepEqual(f.labels, ['BatchNorm', 'Paper (Ioffe 2017)', 'Best schedule']);
  assert.deepEqual(f.datasets[0].data, [[0.785, 0.835], [0.835, 0.885], [0.885, 0.935]]);
  assert.deepEqual(f.datasets[1].data, [{ x: 'BatchNorm', y: 0.81 }, { x: 'Paper (Ioffe 2017)', y: 0.86 }, { x: 'Best schedule', y: 0.91 }]);
  assert.equal(f.datasets[2].data.length, 9);
  assert.equal(finalData(null), null);
  assert.equal(finalData({}), null);
});

test('gains are positive when the best beats the baseline, in either direction', () => {
  assert.ok(Math.abs(gain('maximize', 0.9, 0.8)! - 0.1) < 1e-12);
  assert.ok(Math.abs(gain('minimize', 0.2, 0.3)! - 0.1) < 1e-12);
  assert.ok(gain('minimize', 0.4, 0.3)! < 0);
  assert.equal(gain('maximize', null, 0.3), null);
  assert.equal(formatGain(0.0123, 'valAccuracy'), '+1.23 pts');
  assert.equal(formatGain(-0.0123, 'valAccuracy'), '−1.23 pts');
  const v = fixtureStudy(4);
  const r = summaryRow(v);
  assert.equal(r.done, v.counts.COMPLETE + v.counts.PRUNED + v.counts.FAIL);
  assert.equal(r.href, 'study.html?id=s1');
  assert.equal(summaryRow({ ...v, id: 'a b&c' }).href, 'study.html?id=a%20b%26c');
});

test('the study list shows accuracies in percent only when the objective can be an accuracy', () => {
  assert.equal(summaryMetric({ best: 0.9, batchnorm: 0.8, paper: null }, 'maximize'), 'accuracy');
  assert.equal(summaryMetric({ best: 0.3, batchnorm: 0.4, paper: 0.35 }, 'minimize'), '', 'a minimised objective is a loss');
  assert.equal(summaryMetric({ best: 1.7, batchnorm: 0.8, paper: null }, 'maximize'), '');
  assert.equal(summaryMetric({ best: null, batchnorm: null, paper: null }, 'maximize'), '');
  assert.equal(formatValue(0.8271, 'accuracy'), '82.71%');
  assert.equal(formatValue(0.3, ''), '0.3000');
  assert.equal(formatValue(null), '—');
});
