// Trial roles, ranking and accuracy extraction, and the rule that data shaping never touches the DOM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { accuracies, rankedTrials, topTrialsWithBaselines, trialName, trialRole } from '../../dashboard/data/trials.js';
import { rng, trial } from './fixtures/study.js';

test('chart roles and names follow the trial roles the service gives', () => {
  assert.equal(trialRole({ role: 'baseline:batchnorm' }), 'batchnorm');
  assert.equal(trialRole({ role: 'baseline:paper' }), 'paper');
  assert.equal(trialRole({ role: 'final:best' }), 'final');
  assert.equal(trialRole({ role: 'final:best@x4' }), 'final');
  assert.equal(trialRole({ role: 'race:3' }), 'final', 'race runs are evidence reruns, not search trials');
  assert.equal(trialRole({ role: 'search' }), 'search');
  assert.equal(trialRole({ role: 'enqueued' }), 'search');
  assert.equal(trialName({ role: 'search', number: 7 }), '#7');
  assert.equal(trialName({ role: 'final:paper', number: 9 }), 'final paper #9');
  assert.equal(trialName({ role: 'race:3', number: 12 }), 'race #3 #12');
  assert.equal(trialName({ role: 'baseline:paper', number: 1 }), 'Paper (Ioffe 2017)');
});

test('ranking uses complete trials only, by direction, and never final-validation reruns', () => {
  const ts = [
    trial({ id: 1, value: 0.5 }),
    trial({ id: 2, value: 0.9, state: 'PRUNED' }),
    trial({ id: 3, value: 0.7 }),
    trial({ id: 4, value: 0.99, role: 'final:best' }),
    trial({ id: 5, value: 0.6, role: 'baseline:batchnorm' }),
  ];
  assert.deepEqual(rankedTrials(ts, 'maximize').map((t) => t.id), [3, 5, 1]);
  assert.deepEqual(rankedTrials(ts, 'minimize').map((t) => t.id), [1, 5, 3]);
  assert.deepEqual(topTrialsWithBaselines(ts, 'maximize', 1).map((t) => t.id), [3, 5]);
});

test('inference accuracy comes from metrics.valAccuracy, else the reported value', () => {
  assert.deepEqual(accuracies({ value: 0.4, metrics: { valAccuracy: 0.5, valAccuracyTrainMode: 0.6 } }), { inference: 0.5, train: 0.6 });
  assert.deepEqual(accuracies({ value: 0.4 }), { inference: 0.4, train: null });
});

test('data-shaping modules never touch the DOM (they run in Node tests and could run in a worker)', () => {
  const dir = fileURLToPath(new URL('../../dashboard/data/', import.meta.url));
  const files = readdirSync(dir).filter((f) => f.endsWith('.js'));
  assert.ok(files.length >= 10, `expected the compiled data modules in ${dir}`);
  for (const f of files) {
    const src = readFileSync(dir + f, 'utf8');
    assert.doesNotMatch(src, /\b(document|window|HTMLElement|innerHTML)\b/, `${f} uses the DOM`);
  }
});

test('no dashboard module builds markup from strings (user data goes in as text nodes only)', () => {
  const root = fileURLToPath(new URL('../../dashboard/', import.meta.url));
  const files = ['', 'ui/', 'data/'].flatMap((d) => readdirSync(root + d).filter((f) => f.endsWith('.js')).map((f) => root + d + f));
  assert.ok(files.length >= 15);
  for (const f of files) assert.doesNotMatch(readFileSync(f, 'utf8'), /innerHTML|outerHTML|insertAdjacentHTML|document\.write/, `${f} writes HTML from strings`);
});

test('topTrialsWithBaselines (one pass) picks what ranking every trial would, ties by number, in both directions', () => {
  const r = rng(3);
  const states = ['COMPLETE', 'COMPLETE', 'PRUNED', 'RUNNING', 'FAIL'] as const;
  const roles = ['search', 'search', 'enqueued', 'warm-start', 'baseline:paper', 'baseline:batchnorm', 'final:best', 'race:3'] as const;
  for (let rep = 0; rep < 200; rep++) {
    const ts = Array.from({ length: 1 + Math.floor(r() * 40) }, (_, i) => trial({
      id: i, number: (i * 37) % 101, state: states[Math.floor(r() * states.length)]!, role: roles[Math.floor(r() * roles.length)]!,
      // Coarse values, so ties are common.
      value: r() < 0.1 ? null : Math.round(r() * 5) / 5,
    }));
    for (const direction of ['maximize', 'minimize'] as const) {
      for (const n of [0, 1, 3, 8]) {
        const ranked = rankedTrials(ts, direction).filter((t) => trialRole(t) === 'search').slice(0, n);
        const baselines = ts.filter((t) => trialRole(t) === 'batchnorm' || trialRole(t) === 'paper').sort((a, b) => a.number - b.number);
        assert.deepEqual(topTrialsWithBaselines(ts, direction, n).map((t) => t.id), [...ranked, ...baselines].map((t) => t.id));
      }
    }
  }
});
