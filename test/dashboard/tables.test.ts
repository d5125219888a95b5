// Trial table sorting, CSV export, final-validation bars and headline gains.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pageOf, showsWorkers, sortRows, TABLE_PAGE_ROWS, tablePage, tableRows } from '../../dashboard/data/table.js';
import { csvCell, trialsCsv } from '../../src/shared/trials_csv.js';
import { finalData, verdictCards, VERDICT_COLORS } from '../../dashboard/data/final.js';
import type { Comparison, FinalValidationReport } from '../../src/shared/evidence.js';
import { formatGain, formatValue, gain, summaryRow } from '../../dashboard/data/summary.js';
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

test('a row names its worker: the lease owner while it trains, else who trained it; the column only where trials name two or more', () => {
  const lease = { owner: 'gpu-2:7:worker-bbbbbb', token: 3, expiresAt: '2026-12-07T05:00:00.000Z' };
  const fleet = tableRows([
    trial({ id: 1, number: 0, value: 0.5, metrics: { trainedBy: 'gpu-1:4:worker-aaaaaa' } }),
    trial({ id: 2, number: 1, value: null, state: 'RUNNING', lease }),
    trial({ id: 3, number: 2, value: 0.7, metrics: { backend: 'wasm' } }),
    trial({ id: 4, number: 3, value: 0.6, metrics: { trainedBy: 'cpu-0:9:worker-cccccc' } }),
  ]);
  assert.deepEqual(fleet.map((r) => r.worker), ['gpu-1:4:worker-aaaaaa', 'gpu-2:7:worker-bbbbbb', null, 'cpu-0:9:worker-cccccc']);
  assert.deepEqual(sortRows(fleet, 'worker', true).map((r) => r.id), [4, 1, 2, 3], 'by name, nobody last');
  assert.deepEqual(sortRows(fleet, 'worker', false).map((r) => r.id), [2, 1, 4, 3]);
  assert.equal(showsWorkers(fleet), true);
  const oneRun = tableRows([1, 2, 3].map((id) => trial({ id, number: id - 1, value: 0.5, metrics: { trainedBy: 'laptop:12:run-dddddd' } })));
  assert.equal(showsWorkers(oneRun), false, 'one local run trained them all: no column');
  assert.equal(showsWorkers(rows), false, 'nobody said');
  // Outside trainers' leases name their asks (`external:<askId>`), not machines: no worker, so no column.
  const external = tableRows([1, 2, 3].map((id) => trial({ id, number: id - 1, state: 'RUNNING', lease: { owner: `external:ask${id}abcdef`, token: 1, expiresAt: '2026-12-07T05:00:00.000Z' } })));
  assert.deepEqual(external.map((r) => r.worker), [null, null, null]);
  assert.equal(showsWorkers(external), false);
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

test('CSV says what each trial trained on and who trained it, empty where nothing says', () => {
  const parsed = parseCsv(trialsCsv([
    trial({ id: 1, number: 0, value: 0.5, metrics: { backend: 'node-gpu', device: 'GPU', trainedBy: 'gpu-1:4:worker-aaaaaa' } }),
    trial({ id: 2, number: 1, state: 'RUNNING', lease: { owner: 'gpu-2:7:worker-bbbbbb', token: 1, expiresAt: '2026-12-07T05:00:00.000Z' } }),
    trial({ id: 3, number: 2, value: 0.6, metrics: { backend: 'fake' } }),
    trial({ id: 4, number: 3, value: 0.7 }),
  ]));
  const [header, ...rows] = parsed;
  assert.deepEqual(header.slice(-3), ['backend', 'device', 'worker']);
  assert.deepEqual(rows.map((r) => r.slice(-3)), [
    ['node-gpu', 'GPU', 'gpu-1:4:worker-aaaaaa'],
    ['', '', 'gpu-2:7:worker-bbbbbb'],
    ['fake', '', ''],
    ['', '', ''],
  ]);
});

test('CSV has one row per trial and a column per parameter seen in any trial', () => {
  const v = fixtureStudy(10);
  const parsed = parseCsv(trialsCsv(v.trials));
  assert.equal(parsed.length, v.trials.length + 1);
  assert.ok(parsed[0].includes('param_rmaxFinal') && parsed[0].includes('param_shape'));
  assert.ok(parsed.every((r) => r.length === parsed[0].length));
});

test('final validation stored before pairing: the old CI bars, per-seed dots and means, said to carry no verdict', () => {
  const v = fixtureStudy(4);
  const f = finalData(v.finalValidation)!;
  assert.equal(f.kind, 'unpaired');
  assert.deepEqual(f.labels, ['BatchNorm', 'Paper (Ioffe 2017)', 'Best schedule']);
  assert.deepEqual(f.datasets[0].data, [[0.785, 0.835], [0.835, 0.885], [0.885, 0.935]]);
  assert.deepEqual(f.datasets[1].data, [{ x: 'BatchNorm', y: 0.81 }, { x: 'Paper (Ioffe 2017)', y: 0.86 }, { x: 'Best schedule', y: 0.91 }]);
  assert.equal(f.datasets[2].data.length, 9);
  assert.match(f.notes.join(' '), /no verdict/);
  assert.deepEqual(verdictCards(v.finalValidation).map((c) => [c.label, c.cls]), [['Test set, retrained', '']], 'an unpaired gain is never coloured as a win');
  assert.equal(finalData(null), null);
  assert.equal(finalData({}), null);
});

test('paired final validation: per-seed differences with their interval per comparison and run length, coloured by verdict', () => {
  const v = fixtureStudy(4);
  v.finalValidation = pairedFixture();
  const f = finalData(v.finalValidation)!;
  assert.equal(f.kind, 'paired');
  assert.deepEqual(f.labels, ['vs paper', 'vs BatchNorm', 'vs paper ×4', 'vs BatchNorm ×4']);
  assert.match(f.notes[2]!, /^Tuned vs paper at ×4 \(4000 steps\): worse than the paper schedule/);
  assert.deepEqual(f.rows.map((r) => r.verdict), ['indistinguishable', 'better', 'worse', 'better']);
  const [ci, mean, seeds, zero] = f.datasets;
  assert.deepEqual(ci!.data[0], [-0.004, 0.014]);
  assert.deepEqual(ci!.borderColor, [VERDICT_COLORS.indistinguishable, VERDICT_COLORS.better, VERDICT_COLORS.worse, VERDICT_COLORS.better]);
  assert.equal((mean!.data[0] as { y: number }).y, 0.005);
  assert.equal(seeds!.data.length, 3 + 3 + 3 + 2, 'one dot per paired seed (a missing seed draws none)');
  assert.deepEqual(zero!.data.map((p) => (p as { y: number }).y), [0, 0, 0, 0]);
  assert.match(f.notes[0]!, /^Tuned vs paper: indistinguishable from the paper schedule: \+0\.50 pts \(95% CI −0\.40 to \+1\.40 pts, 3 paired seeds\)\.$/);
  assert.match(f.notes.at(-1)!, /Provisional: 2 final runs still to finish/);
});

test('headline: the paired verdict in words, green only when the interval excludes 0', () => {
  const cards = verdictCards(pairedFixture());
  assert.deepEqual(cards.map((c) => [c.label, c.value, c.cls]), [
    ['Tuned vs BatchNorm, test set (provisional)', 'Better', 'good'],
    ['Tuned vs paper, test set (provisional)', 'Indistinguishable', ''],
  ]);
  assert.equal(cards[1]!.sub, '+0.50 pts, 95% CI −0.40 to +1.40 pts, 3 paired seeds');
  assert.deepEqual(verdictCards(null), []);
});

test('gains are positive when the best beats the baseline, in either direction', () => {
  assert.ok(Math.abs(gain('maximize', 0.9, 0.8)! - 0.1) < 1e-12);
  assert.ok(Math.abs(gain('minimize', 0.2, 0.3)! - 0.1) < 1e-12);
  assert.ok(gain('minimize', 0.4, 0.3)! < 0);
  assert.equal(gain('maximize', null, 0.3), null);
  assert.equal(formatGain(0.0123, 'valAccuracy'), '+1.23 pts');
  assert.equal(formatGain(-0.0123, 'valAccuracy'), '−1.23 pts');
  // Number.MAX_VALUE beside -Number.MAX_VALUE: the difference overflows; it read '+—', a sign and no number.
  assert.equal(formatGain(gain('maximize', Number.MAX_VALUE, -Number.MAX_VALUE)), '+>1.798e+308');
  assert.equal(formatGain(gain('minimize', Number.MAX_VALUE, -Number.MAX_VALUE)), '−>1.798e+308');
  const v = fixtureStudy(4);
  const r = summaryRow(v);
  assert.equal(r.done, v.counts.COMPLETE + v.counts.PRUNED + v.counts.FAIL);
  assert.equal(r.href, 'study.html?id=s1');
  assert.equal(summaryRow({ ...v, id: 'a b&c' }).href, 'study.html?id=a%20b%26c');
});

test('the study list reads values by the study\'s metric, as its own page does: an accuracy in percent, a maximised top1 in [0, 1] as it is', () => {
  const v = fixtureStudy(4);
  assert.equal(summaryRow(v).metric, 'valAccuracy');
  assert.equal(summaryRow({ ...v, metric: 'top1' }).metric, 'top1', 'it was guessed from the values: 0.87 showed as 87.00% on the list and 0.8700 on the page');
  assert.equal(formatValue(0.87, 'top1'), '0.8700');
  assert.equal(formatGain(0.32, 'top1'), '+0.3200');
  assert.equal(formatValue(0.8271, 'valAccuracy'), '82.71%');
  assert.equal(formatValue(0.3, ''), '0.3000');
  assert.equal(formatValue(null), '—');
});

/** A paired report at two run lengths (written by hand: the numbers are what the assertions read). */
function pairedFixture(): FinalValidationReport {
  const cmp = (b: 'paper' | 'batchnorm', meanDiff: number, ci: [number, number], verdict: Comparison['verdict'], diffs: (number | null)[]): Comparison =>
    ({ a: 'best', b, meanDiff, ci, verdict, n: diffs.filter((d) => d !== null).length, diffs });
  const arm = (values: (number | null)[]) => ({ values, mean: 0.9, ci: [0.85, 0.95] as [number, number], n: values.filter((x) => x !== null).length });
  const own = { multiplier: 1, steps: 1000, arms: { paper: arm([0.9, 0.9, 0.9]), best: arm([0.91, 0.9, 0.905]), batchnorm: arm([0.8, 0.81, 0.8]) },
    comparisons: [cmp('paper', 0.005, [-0.004, 0.014], 'indistinguishable', [0.01, 0, 0.005]), cmp('batchnorm', 0.1, [0.09, 0.11], 'better', [0.11, 0.09, 0.1])] };
  const x4 = { multiplier: 4, steps: 4000, arms: own.arms,
    comparisons: [cmp('paper', -0.02, [-0.03, -0.01], 'worse', [-0.02, -0.02, -0.02]), cmp('batchnorm', 0.05, [0.01, 0.09], 'better', [0.05, null, 0.05])] };
  return {
    version: 2, metric: 'testAccuracy', direction: 'maximize', range: [0, 1], interval: 'x', seeds: [11, 12, 13], stepsMultipliers: [1, 4],
    arms: own.arms, comparisons: own.comparisons, byMultiplier: [own, x4], best: { trialId: 1, trialNumber: 1, pickedBy: 'race' }, pending: 2,
  };
}

test('the table pages its rows: a page past the end is the last one, and a trial is found on its page', () => {
  const many = tableRows(Array.from({ length: 1203 }, (_, i) => trial({ id: i + 1, value: i })));
  const first = tablePage(many, 0);
  assert.deepEqual([first.rows.length, first.page, first.pages, first.first, first.total], [TABLE_PAGE_ROWS, 0, 3, 0, 1203]);
  assert.equal(first.rows[0]!.id, 1);
  const last = tablePage(many, 2);
  assert.deepEqual([last.rows.length, last.first], [1203 - 2 * TABLE_PAGE_ROWS, 2 * TABLE_PAGE_ROWS]);
  assert.equal(last.rows[last.rows.length - 1]!.id, 1203);
  assert.equal(tablePage(many, 99).page, 2, 'a page past the end (the study shrank, or a stale click) shows the last');
  assert.equal(tablePage(many, -1).page, 0);
  assert.deepEqual([tablePage([], 0).pages, tablePage([], 0).rows.length], [1, 0]);
  assert.equal(pageOf(many, 1), 0);
  assert.equal(pageOf(many, TABLE_PAGE_ROWS), 0);
  assert.equal(pageOf(many, TABLE_PAGE_ROWS + 1), 1);
  assert.equal(pageOf(many, 1203), 2);
  assert.equal(pageOf(many, 5000), null);
  // Sorted best-first, the best trial (the largest value, the last id) is on the first page.
  assert.equal(pageOf(sortRows(many, 'value', false), 1203), 0);
});
