// The alerting rules shipped in configs/prometheus: promtool accepts them, its unit tests (each alert firing on the
// series that should raise it, after its `for`, and quiet on look-alikes) pass, and every renorm-tune series they
// name is one that `serve` or a queue worker really answers at /metrics, so a renamed series cannot leave an alert
// that never fires.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { WorkerMetrics } from '../../src/distributed/worker_metrics.js';
import { validateStudyConfig } from '../../src/study/config.js';
import { createStudyService } from '../../src/study/service/defaults.js';
import { MemoryStorage } from '../../src/study/storage/index.js';
import { start, studyConfig } from './helpers.js';
import type { QueueStatus } from '../../src/distributed/status.js';

const RULES = fileURLToPath(new URL('../../../configs/prometheus/renorm-tune.rules.yml', import.meta.url));
const RULE_TESTS = fileURLToPath(new URL('../../../test/fixtures/prometheus/renorm-tune.rules.test.yml', import.meta.url));
const promtoolMissing = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0
  ? false : 'promtool is not installed (Debian: prometheus)';

/** The series names of a text exposition. */
function seriesNames(text: string): Set<string> {
  return new Set(text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(l)![0]));
}

describe('configs/prometheus/renorm-tune.rules.yml', () => {
  it('promtool checks the rules and passes their unit tests', { skip: promtoolMissing }, () => {
    const check = spawnSync('promtool', ['check', 'rules', RULES], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /SUCCESS: 10 rules found/);
    const tests = spawnSync('promtool', ['test', 'rules', RULE_TESTS], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(tests.status, 0, tests.stdout + tests.stderr);
    assert.match(tests.stdout, /SUCCESS/);
  });

  it('names only series that serve and a worker answer', async () => {
    const named = new Set(readFileSync(RULES, 'utf8').match(/renorm_tune_[a-z0-9_]+/g));
    assert.equal(named.size, 8, [...named].join(', '));
    const api = createStudyService(new MemoryStorage());
    await api.createStudy(validateStudyConfig(studyConfig('scraped')));
    // A server that watches a queue (serve --redis): its series as queueSeries prints them for a status read from Redis.
    const queue = { status: async (): Promise<QueueStatus> => ({ redis: 'redis://q:6379', prefix: 'p', coordinators: [], workers: [], orphans: [], slots: 0, jobs: { waiting: 0, active: 0, delayed: 0 } }) };
    const srv = await start({ api, queue });
    const metrics = new WorkerMetrics();
    // A worker that has trained one trial: the series by backend and device appear with the first.
    metrics.trialEnded('COMPLETE', { backend: 'node-gpu', device: 'CPU' });
    const worker = await metrics.serve('127.0.0.1', 0);
    try {
      const answered = new Set([
        ...seriesNames(await (await fetch(`${srv.url}/metrics`)).text()),
        ...seriesNames(await (await fetch(`${worker.url}/metrics`)).text()),
      ]);
      const missing = [...named].filter((n) => !answered.has(n));
      assert.deepEqual(missing, [], `named by the rules, answered by neither: ${missing.join(', ')}`);
    } finally {
      await worker.close();
      await srv.close();
    }
  });
});
