// The lean study view (GET /api/studies/:id?curves=top), over the three stores: the curves of the 8 best search
// trials, the baselines and the unfinished trials, every other trial whole but for its curve; refused query values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStudyService } from '../../src/study/service/defaults.js';
import { freshStore, type StoreKind } from '../fixtures/stores.js';
import { call, start, studyConfig } from './helpers.js';

for (const kind of ['memory', 'sqlite', 'postgres'] as StoreKind[]) {
  test(`?curves=top over ${kind}: the curves of the 8 best search trials, both baselines and the running trial; the rest without theirs`, async (t) => {
    const store = await freshStore(kind, 'view_curves');
    if ('unavailable' in store) return t.skip(store.unavailable);
    const srv = await start({ api: createStudyService(store.connections[0]!) });
    try {
      const config = studyConfig('lean', { budget: { trials: 14 }, baselines: true, optimizer: { type: 'random' }, objective: { metric: 'valAccuracy', direction: 'maximize' } });
      const id = (await call(srv.url, 'POST', '/api/studies', config)).body.id;
      const asked = (await call(srv.url, 'POST', `/api/studies/${id}/ask`, { count: 14 })).body.trials as Array<{ number: number; role: string }>;
      assert.equal(asked.length, 14);
      // Values chosen so the baselines rank last, and the best 8 search trials are not the first 8 asked.
      const value = (i: number) => (asked[i]!.role.startsWith('baseline') ? 0.1 + i / 100 : 0.3 + ((i * 7) % 13) / 20);
      for (let i = 0; i < 14; i++) {
        for (const step of [100, 200, 300]) {
          const r = await call(srv.url, 'POST', `/api/studies/${id}/trials/${asked[i]!.number}/report`, { step, value: value(i) * step / 300, metrics: { valAccuracy: value(i) * step / 300 } });
          assert.equal(r.status, 200, JSON.stringify(r.body));
        }
        if (i < 13) assert.equal((await call(srv.url, 'POST', `/api/studies/${id}/trials/${asked[i]!.number}/tell`, { value: value(i) })).status, 200);
      }
      const full = (await call(srv.url, 'GET', `/api/studies/${id}`)).body;
      assert.equal(full.curveTrials, undefined, 'the default view carries every curve, and says nothing of curveTrials');
      assert.deepEqual((await call(srv.url, 'GET', `/api/studies/${id}?curves=all`)).body, full);
      const lean = await call(srv.url, 'GET', `/api/studies/${id}?curves=top`);
      assert.equal(lean.status, 200, JSON.stringify(lean.body));

      const byNumber = new Map(full.trials.map((tr: { number: number }) => [tr.number, tr]));
      const search = asked.slice(0, 13).filter((a) => a.role === 'search').map((a) => ({ number: a.number, value: value(asked.indexOf(a)) }));
      search.sort((a, b) => b.value - a.value || a.number - b.number);
      const expected = [...search.slice(0, 8).map((s) => s.number), ...asked.filter((a) => a.role.startsWith('baseline')).map((a) => a.number), asked[13]!.number];
      assert.equal(expected.length, 11);
      const idsOf = (numbers: number[]) => numbers.map((n) => (byNumber.get(n) as { id: number }).id).sort((a, b) => a - b);
      assert.deepEqual([...lean.body.curveTrials].sort((a: number, b: number) => a - b), idsOf(expected));

      const { trials: leanTrials, curveTrials: _ids, ...leanHead } = lean.body;
      const { trials: fullTrials, ...fullHead } = full;
      assert.deepEqual(leanHead, fullHead, 'the study part is the same');
      assert.equal(leanTrials.length, 14);
      leanTrials.forEach((tr: { number: number; intermediate: unknown[] }, i: number) => {
        const whole = fullTrials[i];
        assert.equal(whole.intermediate.length, 3, 'every trial reported 3 points');
        if (expected.includes(tr.number)) assert.deepEqual(tr, whole, `#${tr.number} is sent whole`);
        else assert.deepEqual(tr, { ...whole, intermediate: [] }, `#${tr.number} is sent without its curve`);
      });
      // A left-out curve is one GET away.
      const left = leanTrials.find((tr: { number: number }) => !expected.includes(tr.number));
      assert.deepEqual((await call(srv.url, 'GET', `/api/studies/${id}/trials/${left.number}`)).body.trial, fullTrials.find((tr: { number: number }) => tr.number === left.number));

      for (const [query, message] of [['curves=some', /curves must be all or top, got "some"/], ['curves=top&curves=all', /curves is given more than once/]] as const) {
        const bad = await call(srv.url, 'GET', `/api/studies/${id}?${query}`);
        assert.equal(bad.status, 400);
        assert.equal(bad.body.error.code, 'INVALID_URL');
        assert.equal(bad.body.error.field, 'curves');
        assert.match(bad.body.error.message, message);
      }
    } finally {
      await srv.close();
      await store.close();
    }
  });
}
