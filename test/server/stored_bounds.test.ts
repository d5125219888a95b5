// Finding 1 at the door: a report's metrics and a study config are bounded (depth, entries, size, finite numbers, keys) before they are stored, so no study can be poisoned.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createStudyService } from '../../src/study/service/defaults.js';
import { MemoryStorage } from '../../src/study/storage/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { call, start, studyConfig } from './helpers.js';

const deepText = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

describe('stored JSON is bounded at the door', () => {
  let srv: RunningServer;
  let id: string;
  let trial: number;
  const view = async () => {
    const r = await call(srv.url, 'GET', `/api/studies/${id}`);
    assert.equal(r.status, 200, `the study must stay readable: ${JSON.stringify(r.body).slice(0, 200)}`);
    return JSON.stringify(r.body);
  };

  before(async () => {
    srv = await start({ api: createStudyService(new MemoryStorage()) });
    id = (await call(srv.url, 'POST', '/api/studies', studyConfig('bounded', { optimizer: { type: 'random' } }))).body.id;
    trial = (await call(srv.url, 'POST', `/api/studies/${id}/ask`, {})).body.trials[0].number;
  });
  after(() => srv.close());

  const report = (metricsText: string) => call(srv.url, 'POST', `/api/studies/${id}/trials/${trial}/report`, `{"step": 1, "value": 0.5, "metrics": ${metricsText}}`);

  // [what, metrics JSON text, field the error names, phrase of the message]
  const cases: Array<[string, string, string, RegExp]> = [
    ['metrics nested 4,100 deep (the poisoned study)', deepText(4100), 'body', /more than 64 levels .*metrics\.a\.a/],
    ['metrics nested 33 deep', deepText(33), 'metrics', /more than 32 levels/],
    ['250 kB of metrics', JSON.stringify({ blob: 'x'.repeat(250_000) }), 'metrics', /larger than 64 kB/],
    ['5,000 metric values', JSON.stringify({ series: new Array(5000).fill(0.5) }), 'metrics', /more than 4096 keys/],
    ['an infinite metric (1e999)', '{"loss": 1e999}', 'metrics.loss', /finite number/],
    ['a __proto__ key', '{"__proto__": {"polluted": true}}', 'metrics.__proto__', /reserved key/],
  ];
  for (const [what, text, field, message] of cases) {
    it(`refuses ${what} with 400 naming ${field}, and stores nothing`, async () => {
      const before = await view();
      const r = await report(text);
      assert.equal(r.status, 400, JSON.stringify(r.body).slice(0, 300));
      // Depth is refused by the body reader for every route; the rest by the report's own checks.
      assert.equal(r.body.error.code, field === 'body' ? 'INVALID_CONFIG' : 'INVALID_REPORT');
      assert.equal(r.body.error.field, field, r.body.error.message);
      assert.match(r.body.error.message, message);
      assert.equal(await view(), before);
      assert.equal((await call(srv.url, 'GET', '/api/studies')).status, 200);
    });
  }

  it('still stores ordinary metrics, 32 levels deep at most', async () => {
    const r = await report(deepText(32));
    assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 300));
    const stored = JSON.parse(await view());
    assert.equal(stored.trials.find((t: { number: number }) => t.number === trial).intermediate.length, 1);
  });

  it('refuses a study config over 64 kB, or with an infinite number, and creates nothing', async () => {
    const list = async () => JSON.stringify((await call(srv.url, 'GET', '/api/studies')).body);
    const before = await list();
    const big = await call(srv.url, 'POST', '/api/studies', { ...studyConfig('big-config'), $schema: 'x'.repeat(70_000) });
    assert.equal(big.status, 400, JSON.stringify(big.body).slice(0, 300));
    assert.equal(big.body.error.field, 'body');
    assert.match(big.body.error.message, /larger than 64 kB/);
    const inf = await call(srv.url, 'POST', '/api/studies', JSON.stringify(studyConfig('inf-config')).replace('"steps":1000', '"steps":1e999'));
    assert.equal(inf.status, 400, JSON.stringify(inf.body).slice(0, 300));
    assert.equal(inf.body.error.field, 'scenario.steps');
    assert.equal(await list(), before);
  });
});
