// Two `renorm-tune serve` processes in front of one database (PostgreSQL, and a SQLite file), asked at once: the budget is exact and no suggestion repeats.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from '../fixtures/pg.js';
import { serveProcess } from '../fixtures/serve_process.js';
import { call, studyConfig } from './helpers.js';

async function askHammer(db: string): Promise<void> {
  const servers = await Promise.all([serveProcess(['--db', db]), serveProcess(['--db', db])]);
  try {
    const [a, b] = servers.map((s) => s.url) as [string, string];
    const budget = 14;
    const created = await call(a, 'POST', '/api/studies', studyConfig('two-servers', { budget: { trials: budget }, optimizer: { type: 'gp', initialTrials: 4 }, seed: 7 }));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.id;
    // Round 1 fills the initial design and a few GP points; round 2 asks past the budget from both servers at once.
    const replies = [];
    for (const round of [0, 1]) {
      replies.push(...(await Promise.all(Array.from({ length: 6 }, (_, i) => call(i % 2 ? a : b, 'POST', `/api/studies/${id}/ask`, { count: 2 })))));
      if (round === 0) {
        // Tell what was asked so far, so the GP (not only the quasi-random start) makes the later suggestions.
        const view = await call(a, 'GET', `/api/studies/${id}`);
        for (const t of view.body.trials) {
          const told = await call(b, 'POST', `/api/studies/${id}/trials/${t.number}/tell`, { value: Number(t.params.warmup) });
          assert.equal(told.status, 200, JSON.stringify(told.body));
        }
      }
    }
    const granted = replies.filter((r) => r.status === 200).flatMap((r) => r.body.trials);
    const refused = replies.filter((r) => r.status !== 200);
    assert.equal(granted.length, budget, `exactly the budget across both servers: ${JSON.stringify(replies.map((r) => r.status))}`);
    for (const r of refused) assert.equal(r.body.error.code, 'BUDGET_EXHAUSTED', JSON.stringify(r.body));
    assert.equal(new Set(granted.map((t: { params: unknown }) => JSON.stringify(t.params))).size, budget, 'no two trials got the same suggestion');
    const view = await call(b, 'GET', `/api/studies/${id}`);
    assert.equal(view.body.trials.length, budget, 'what both servers stored');
    assert.deepEqual(view.body.trials.map((t: { number: number }) => t.number), Array.from({ length: budget }, (_, i) => i));
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

describe('two servers, one database, concurrent asks', () => {
  it('PostgreSQL: the budget is exact and no suggestion repeats', { timeout: 120_000 }, async (t) => {
    const db = await createTestDatabase('two_servers');
    if ('unavailable' in db) return t.skip(db.unavailable);
    try {
      await askHammer(db.url);
    } finally {
      await db.drop();
    }
  });

  const dir = mkdtempSync(join(tmpdir(), 'two-servers-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  it('SQLite file: the budget is exact and no suggestion repeats', { timeout: 120_000 }, async () => {
    await askHammer(join(dir, 'shared.db'));
  });
});
