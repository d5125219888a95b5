// One short study per path and store under random faults (./queue.ts, ./service.ts); `npm run soak` runs them for as
// long as you like.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pythonMissing } from '../clients/helpers.js';
import { pgSkip, type Store } from '../distributed/helpers.js';
import { startPrivateRedis } from '../fixtures/redis_server.js';
import { runQueueChaos } from './queue.js';
import { runServiceChaos } from './service.js';

const probe = await startPrivateRedis();
const noRedis = 'unavailable' in probe ? probe.unavailable : false;
if (!('unavailable' in probe)) await probe.close();
const noPg = await pgSkip();

for (const [store, skip] of [['sqlite', noRedis], ['postgres', noRedis || noPg]] as [Store, string | false][]) {
  test(`a study over the queue under random faults completes its exact budget, every restart explained by a fault [${store}]`, { skip, timeout: 300_000 }, async () => {
    const lines: string[] = [];
    const report = await runQueueChaos({ store, seed: 7, trials: 16, chaosMs: 30_000, settleMs: 150_000, progress: (l) => lines.push(l) });
    assert.deepEqual(report.problems, [], `faults:\n${lines.join('\n')}`);
    assert.ok(Object.keys(report.faults).length >= 3, `faults of several kinds landed: ${JSON.stringify(report.faults)}`);
  });
}

for (const [store, skip] of [['sqlite', pythonMissing], ['postgres', pythonMissing || noPg]] as [Store, string | false][]) {
  test(`outside trainers (study.optimize) under random faults complete an external study's exact budget, every tell acknowledged stored once [${store}]`, { skip, timeout: 300_000 }, async () => {
    const lines: string[] = [];
    const report = await runServiceChaos({ store, seed: 7, trials: 16, chaosMs: 30_000, settleMs: 150_000, progress: (l) => lines.push(l) });
    assert.deepEqual(report.problems, [], `faults:\n${lines.join('\n')}`);
    assert.ok(Object.keys(report.faults).length >= 3, `faults of several kinds landed: ${JSON.stringify(report.faults)}`);
  });
}
