import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressDisplay } from '../../src/cli/display.js';
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
