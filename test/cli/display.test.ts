import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressDisplay, finalTable } from '../../src/cli/display.js';
import { finalScore } from '../../src/study/runner/stats.js';
import { mkTrial } from '../study/pruners/helpers.js';

function capture() {
  const lines: string[] = [];
  const stream = { isTTY: false, write: (s: string) => (lines.push(...s.split('\n').filter(Boolean)), true) } as unknown as NodeJS.WriteStream;
  return { lines, stream };
}

test('display (no TTY): finished trials print a line with the best so far against both baselines', () => {
  const { lines, stream } = capture();
  const d = new ProgressDisplay({ stream, metric: 'valAccuracy', direction: 'maximize', budgetTrials: 8 });
  const bn = { ...mkTrial([[10, 0.8]], 'COMPLETE', 'baseline:batchnorm'), value: 0.8 };
  const tuned = { ...mkTrial([[10, 0.9]], 'COMPLETE'), value: 0.9 };
  const failed = { ...mkTrial([], 'FAIL'), failureReason: 'worker died: exited with code 7' };
  for (const t of [bn, tuned, failed]) d.handle({ type: 'trial', studyId: 's', trial: t });
  assert.match(lines[0]!, new RegExp(`#${bn.number} BatchNorm COMPLETE valAccuracy 0\\.8000 .*best 0\\.8000 .*batchnorm 0\\.8000 \\| paper —`));
  assert.match(lines[1]!, new RegExp(`#${tuned.number} COMPLETE valAccuracy 0\\.9000 .*best 0\\.9000 \\(#${tuned.number}\\)`));
  assert.match(lines[2]!, /FAIL \(worker died: exited with code 7\)/);
});

test('display: a final run is labelled with the test metric it was scored on', () => {
  const { lines, stream } = capture();
  const d = new ProgressDisplay({ stream, metric: 'valAccuracy', direction: 'maximize', budgetTrials: null });
  d.handle({ type: 'trial', studyId: 's', trial: { ...mkTrial([], 'COMPLETE', 'final:best'), value: 0.91 } });
  assert.match(lines[0]!, /final best COMPLETE testAccuracy 0\.9100/);
});

test('finalTable: mean and interval per schedule; one seed says n/a instead of inventing an interval', () => {
  const rows = finalTable(JSON.parse(JSON.stringify({ batchnorm: finalScore([0.9, 0.92, 0.94]), best: finalScore([0.95]), trialId: 70, trialNumber: 7 })));
  assert.match(rows[1]!, /batchnorm\s+0\.9200\s+\[0\.8703, 0\.9697\]\s+n=3/);
  assert.match(rows[2]!, /best \(#7\)\s+0\.9500\s+n\/a \(one seed\)\s+n=1/);
  assert.match(finalTable(null)[0]!, /not run/);
});
