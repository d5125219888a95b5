// The storage's series of a scrape, printed by our own code, against prom-client's gauges as the reference: the same
// text, byte for byte, for studies whose names carry every character the format escapes, with and without a budget
// or a best value, and for a storage that did not answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Gauge, Registry } from 'prom-client';
import { METRICS_PREFIX } from '../../src/process_metrics.js';
import { type StorageRead, studySeries } from '../../src/server/study_series.js';
import type { StudySummary } from '../../src/study/api_types.js';
import { rng } from '../fixtures/rng.js';

/** The same series through prom-client, as /metrics made them before: the independent reference. */
async function reference({ studies, seconds }: StorageRead): Promise<string> {
  const r = new Registry();
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Gauge<L>({ name: `${METRICS_PREFIX}${name}`, help, labelNames, registers: [r] });
  gauge('storage_up', 'Whether the study list could be read from the storage for this scrape (1) or not (0)').set(studies ? 1 : 0);
  gauge('storage_read_seconds', 'Time this scrape took to read the study list from the storage').set(seconds);
  if (studies) {
    const info = gauge('study_info', 'One series per study, with its state, executor and direction as labels', ['study', 'study_id', 'state', 'executor', 'direction']);
    const trials = gauge('study_trials', 'Trials of a study in each state', ['study', 'study_id', 'state']);
    const budget = gauge('study_budget_trials', 'A study\'s trials budget (baselines included); absent with only a time budget', ['study', 'study_id']);
    const best = gauge('study_best_value', 'The value of a study\'s best trial among its search trials and baselines (as `renorm-tune studies` lists it); absent before one completes', ['study', 'study_id']);
    for (const s of studies) {
      const who = { study: s.name, study_id: s.id };
      info.set({ ...who, state: s.state, executor: s.executor, direction: s.direction }, 1);
      for (const state of ['WAITING', 'RUNNING', 'COMPLETE', 'PRUNED', 'FAIL']) trials.set({ ...who, state }, s.counts[state as keyof StudySummary['counts']] ?? 0);
      if (s.budgetTrials !== null) budget.set(who, s.budgetTrials);
      if (s.best) best.set(who, s.best.value);
    }
  }
  return r.metrics();
}

const NAMES = ['plain', 'with "quotes"', 'back\\slash', 'line\nfeed', 'braces {a="b"}', 'ünïcödé ☃', 'trailing\\', 'comma,equals=', ''];

function studies(n: number, seed: number): StudySummary[] {
  const random = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  return Array.from({ length: n }, (_, i) => {
    const counts: Record<string, number> = {};
    for (const state of ['WAITING', 'RUNNING', 'COMPLETE', 'PRUNED', 'FAIL']) if (random() < 0.7) counts[state] = Math.floor(random() * 500);
    return {
      id: `${i.toString(16).padStart(8, '0')}abcd`,
      name: `${pick(NAMES)}-${i}`,
      state: pick(['RUNNING', 'STOPPED', 'COMPLETE'] as const),
      executor: pick(['local', 'external'] as const),
      direction: pick(['minimize', 'maximize'] as const),
      counts,
      budgetTrials: random() < 0.2 ? null : 1 + Math.floor(random() * 1000),
      best: random() < 0.3 ? null : { value: pick([0, -0.5, 1e-12, 123456789.25, -3e21, (random() - 0.5) * 10]) },
    } as unknown as StudySummary;
  });
}

test('the study series are the text prom-client prints for the same gauges', async () => {
  const reads: [StorageRead, string][] = [
    [{ studies: studies(300, 1), seconds: 0.0125 }, '300 studies'],
    [{ studies: studies(40, 2), seconds: 1.5 }, '40 others'],
    [{ studies: [], seconds: 0 }, 'no study'],
    [{ studies: undefined, seconds: 2.0001 }, 'the storage down'],
  ];
  for (const [read, what] of reads) {
    assert.equal(studySeries(read), await reference(read), what);
  }
});

test('a name with a line feed, a quote or a backslash stays on one sample line, escaped', () => {
  const [s] = studies(1, 3);
  const text = studySeries({ studies: [{ ...s!, name: 'a"b\\c\nd' }], seconds: 0 });
  assert.match(text, /^renorm_tune_study_info\{study="a\\"b\\\\c\\nd",study_id="00000000abcd",/m);
  for (const line of text.split('\n')) assert.match(line, /^(# (HELP|TYPE) \S+ .*|\S+(\{.*\})? \S+|)$/);
});
