// An ask named by askId and sent again (its answer lost when the server restarted mid-call) answers with the trials
// it handed out, on every store, rather than handing out more that nobody would hold until their leases ran out.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createStudyService } from '../../../src/study/service/defaults.js';
import { freshStore, type StoreKind } from '../../fixtures/stores.js';

const config = {
  name: 'ask-again', executor: 'external', objective: { metric: 'score', direction: 'maximize', bounds: [0, 1] },
  totalSteps: 100, optimizer: { type: 'random' }, budget: { trials: 4 }, baselines: false,
  finalValidation: { seeds: 0, race: { candidates: 1 } },
} as const;

for (const kind of ['memory', 'sqlite', 'postgres'] as StoreKind[]) {
  const store = await freshStore(kind, 'ask_again');
  describe(`an ask sent again by its askId [${kind}]`, { skip: 'unavailable' in store ? store.unavailable : false }, () => {
    it('answers with the trials the first one handed out, same numbers and tokens; a new askId, or one whose trials are finished, gets new trials', async () => {
      if ('unavailable' in store) return;
      const api = createStudyService(store.connections[0]!);
      try {
        const study = await api.createStudy(config as never);
        const first = await api.ask(study.id, 2, { askId: 'first-ask-0001' });
        const again = await api.ask(study.id, 2, { askId: 'first-ask-0001' });
        assert.deepEqual(again.map((t) => [t.number, t.lease?.token]), first.map((t) => [t.number, t.lease?.token]));
        assert.equal((await api.getStudyView(study.id)).trials.length, 2, 'nothing more was handed out');
        const unnamed = await api.ask(study.id, 1);
        assert.deepEqual(unnamed.map((t) => t.number), [2], 'an ask without askId is a new ask');
        const other = await api.ask(study.id, 1, { askId: 'other-ask-0002' });
        assert.deepEqual(other.map((t) => t.number), [3]);

        for (const t of first) await api.tell(study.id, { number: t.number }, { value: 0.5 }, { token: t.lease!.token });
        // The budget (4) is spent and both trials told: the same askId now asks afresh, and is told so.
        await assert.rejects(api.ask(study.id, 2, { askId: 'first-ask-0001' }), { code: 'BUDGET_EXHAUSTED' });
        // The other's trial handed back is queued again: its askId, sent again, finds nothing of its own out and claims afresh.
        await api.release(study.id, { number: other[0]!.number }, other[0]!.lease!.token);
        const reclaimed = await api.ask(study.id, 1, { askId: 'other-ask-0002' });
        assert.deepEqual(reclaimed.map((t) => [t.number, t.lease?.token]), [[3, 2]], 'the queued trial under a new token');
      } finally {
        await store.close();
      }
    });
  });
}
