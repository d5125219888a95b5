// One short study per store under random faults (./chaos.ts); `npm run soak` runs them for as long as you like.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPrivateRedis } from '../../fixtures/redis_server.js';
import { pgSkip } from '../helpers.js';
import { runChaos } from './chaos.js';
import type { Store } from '../helpers.js';

const probe = await startPrivateRedis();
const noRedis = 'unavailable' in probe ? probe.unavailable : false;
if (!('unavailable' in probe)) await probe.close();

for (const [store, skip] of [['sqlite', noRedis], ['postgres', noRedis || (await pgSkip())]] as [Store, string | false][]) {
  test(`a study over the queue under random faults completes its exact budget, every restart explained by a fault [${store}]`, { skip, timeout: 300_000 }, async () => {
    const lines: string[] = [];
    const report = await runChaos({ store, seed: 7, trials: 16, chaosMs: 30_000, settleMs: 150_000, progress: (l) => lines.push(l) });
    assert.deepEqual(report.problems, [], `faults:\n${lines.join('\n')}`);
    assert.ok(Object.keys(report.faults).length >= 3, `faults of several kinds landed: ${JSON.stringify(report.faults)}`);
  });
}
