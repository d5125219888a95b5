// Asks and tells through the service on PostgreSQL: the lock's own listing, the reap beside it, and tells that skip the study read keep every rule.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { NotFoundError, RequestError } from '../../../src/errors.js';
import { SCHEMA } from '../../../src/study/storage/pg_migrations.js';
import { createTestDatabase, withPgClient } from '../../fixtures/pg.js';
import { baseConfig } from './fakes.js';
import { twoServers } from './pg_servers.js';

it('on PostgreSQL: an abandoned external trial is handed out by the next ask, tells by id check bounds without a read, a deleted study is named', { timeout: 60_000 }, async (t) => {
  const db = await createTestDatabase('ask');
  if ('unavailable' in db) return t.skip(db.unavailable);
  const servers = await twoServers(db.url);
  const { a, b } = servers;
  try {
    const study = await a.createStudy(baseConfig({ executor: 'external', baselines: false, leaseSeconds: 60, budget: { trials: 20 } }));
    const [first] = await a.ask(study.id, 1);
    const [second] = await b.ask(study.id, 1);
    assert.deepEqual([first!.number, second!.number], [0, 1], 'two servers number their asks in turn');
    await a.tell(study.id, { number: 1 }, { value: 0.5 });
    // The trainer of #0 vanished: its lease runs out (moved into the past on the server, whose clock decides).
    await withPgClient(db.url, (c) => c.query(`UPDATE ${SCHEMA}.trials SET lease_expires = statement_timestamp() - interval '1 second' WHERE id = $1`, [first!.id]));
    // The lease of #0 expired: the reap beside this ask's lock sends it back, and the same ask hands it out again.
    const [reclaimed] = await b.ask(study.id, 1);
    assert.equal(reclaimed!.number, 0, 'the abandoned trial comes before any new suggestion');
    assert.equal(reclaimed!.lease!.token, first!.lease!.token + 1);
    await assert.rejects(a.tell(study.id, { number: 0 }, { value: 1.5 }), (e: unknown) => e instanceof RequestError && /outside the bounds/.test(e.message));
    assert.equal((await b.tell(study.id, reclaimed!.id, { value: 0.75 }, { token: reclaimed!.lease!.token })).state, 'COMPLETE');
    const trials = await a.listTrials(study.id);
    assert.deepEqual(trials.map((x) => [x.number, x.state, x.value, x.retries]), [[0, 'COMPLETE', 0.75, 1], [1, 'COMPLETE', 0.5, 0]]);
    await b.deleteStudy(study.id);
    await assert.rejects(a.tell(study.id, 5, { value: 0.5 }), (e: unknown) => e instanceof NotFoundError && /neither an id nor a name/.test(e.message));
  } finally {
    await servers.close();
    await db.drop();
  }
});
