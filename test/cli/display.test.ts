import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evidenceLine, ProgressDisplay } from '../../src/cli/display.js';
import { evidenceSteps } from '../../src/study/evidence.js';
import { validateStudyConfig } from '../../src/study/config.js';
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

test('display: the evidence line says what this study\'s config will do (it always promised a race and final runs)', () => {
  const line = (finalValidation: unknown, extra: Record<string, unknown> = {}) => {
    const { lines, stream } = capture();
    const config = validateStudyConfig({ name: 'e', scenario: { steps: 20 }, budget: { trials: 8 }, finalValidation, ...extra });
    new ProgressDisplay({ stream, metric: 'valAccuracy', direction: 'maximize', budgetTrials: 8 }).handle({ type: 'phase', studyId: 's', phase: 'final', evidence: evidenceSteps(config) });
    return lines.join('\n');
  };
  assert.equal(line({ seeds: 5, race: { candidates: 3, seeds: 2 } }),
    '[study] evidence: racing the top 3 tuned schedules on 2 fresh validation seeds each, then retraining the winner and both baselines on the same 5 fresh seeds (test set)');
  assert.equal(line({ seeds: 0 }), '[study] evidence: racing the top 3 tuned schedules on 2 fresh validation seeds each (no final runs: finalValidation.seeds is 0)');
  assert.equal(line({ seeds: 4, race: { candidates: 1 } }), '[study] evidence: retraining the recommended tuned schedule and both baselines on the same 4 fresh seeds (test set)');
  assert.equal(line({ seeds: 1, race: { candidates: 3, seeds: 0 } }, { baselines: false }), '[study] evidence: retraining the recommended tuned schedule on 1 fresh seed (test set)');
  assert.equal(evidenceLine(evidenceSteps(validateStudyConfig({ name: 'e', scenario: {}, budget: { trials: 8 }, finalValidation: { seeds: 0, race: { candidates: 1 } } }))),
    'evidence: none (no race, no final runs)', 'never shown: the runner skips the phase');
  const { lines, stream } = capture();
  const failed = new ProgressDisplay({ stream, metric: 'valAccuracy', direction: 'maximize', budgetTrials: 8 });
  failed.seed([2, 3].map((id) => ({ id, number: id, role: 'search', state: 'FAIL', value: null }) as unknown as Parameters<ProgressDisplay['seed']>[0][number]));
  failed.handle({ type: 'phase', studyId: 's', phase: 'final', evidence: evidenceSteps(validateStudyConfig({ name: 'e', scenario: { steps: 20 }, budget: { trials: 8 } })) });
  assert.equal(lines.join('\n'), '[study] evidence: nothing to race or retrain (no tuned trial completed)', 'every tuned trial failed');
});
