// PostgreSQL going away mid-run: calls fail with a 503 STORAGE_UNAVAILABLE naming the database, never a raw driver error (a 500);
// lost after a write went out, with STORAGE_OUTCOME_UNKNOWN, since that write may have landed, unless the database can
// say what it did (a transaction by its id; a tell or a new study by its rows, once the session that ran it ended).
import { it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { StorageOutcomeUnknownError, StorageReadOnlyError, StorageUnavailableError } from '../../../src/study/errors.js';
import { PgStorage } from '../../../src/study/storage/postgres.js';
import { createTestDatabase, PG_SERVER, type TestDatabase, withPgClient } from '../../fixtures/pg.js';
import { startRelay, type Relay } from '../../fixtures/relay.js';
import { newTrial } from './conformance.js';

/**
 * `fn` with a store on a fresh test database reached through a relay the test can cut (`edit` changes the relayed URL,
 * `fakePid` the relay's startup), everything closed and dropped afterwards; skipped without a server.
 */
async function throughRelay(t: TestContext, tag: string, fn: (on: { db: TestDatabase; relay: Relay; storage: PgStorage }) => Promise<void>,
  opts: { edit?: (via: URL) => void; fakePid?: boolean } = {}): Promise<void> {
  const db = await createTestDatabase(tag);
  if ('unavailable' in db) return t.skip(db.unavailable);
  const relay = await startRelay(new URL(db.url), { fakePid: opts.fakePid });
  const via = relay.via(db.url);
  opts.edit?.(via);
  let storage: PgStorage | undefined;
  try {
    storage = await PgStorage.connect(via.toString());
    await fn({ db, relay, storage });
  } finally {
    await relay.close();
    await storage?.close().catch(() => undefined);
    await db.drop();
  }
}

it('a database cut off after connecting answers 503 STORAGE_UNAVAILABLE, with the password redacted', { timeout: 60_000 }, (t) => throughRelay(t, 'unavailable', async ({ relay, storage }) => {
  const study = await storage.createStudy({ name: 'cut', direction: 'maximize', config: {} });
  relay.cut();
  for (const call of [() => storage.getTrial(study.id, 1), () => storage.setStudyAttr(study.id, 'k', 1), () => storage.changeStamp(study.id)]) {
    await assert.rejects(call(), (e: unknown) => {
      assert.ok(e instanceof StorageUnavailableError, `expected STORAGE_UNAVAILABLE, got ${String(e)}`);
      assert.equal((e as StorageUnavailableError).status, 503);
      assert.doesNotMatch((e as Error).message, /s3cret-pw/);
      return true;
    });
  }
}, {
  edit: (via) => {
    via.username = 'postgres';
    via.password = 's3cret-pw';
    via.searchParams.set('connect_timeout', '2');
  },
}));

it('a connection lost after a write went out and before its answer came is 503 STORAGE_OUTCOME_UNKNOWN, not "nothing was written", unless the database can say what became of it (a transaction\'s id, or a single statement\'s rows once its session ended)', { timeout: 60_000 }, (t) => throughRelay(t, 'outcome', async ({ db, relay, storage }) => {
  const unknown = (e: unknown) => {
    assert.ok(e instanceof StorageOutcomeUnknownError, `expected STORAGE_OUTCOME_UNKNOWN, got ${String(e)}`);
    assert.equal((e as StorageOutcomeUnknownError).code, 'STORAGE_OUTCOME_UNKNOWN');
    assert.equal((e as StorageOutcomeUnknownError).status, 503);
    assert.match((e as Error).message, /may or may not have been written; read it back before doing it again/);
    return true;
  };
  const nothingWritten = (e: unknown) => {
    assert.ok(e instanceof StorageUnavailableError && !(e instanceof StorageOutcomeUnknownError), `expected STORAGE_UNAVAILABLE, got ${String(e)}`);
    assert.match((e as Error).message, /nothing was written/);
    return true;
  };
  const study = await storage.createStudy({ name: 'outcome', direction: 'maximize', config: {} });
  const stored = (id: number) => withPgClient(db.url, async (c) => (await c.query('SELECT state, value FROM renorm_tune.trials WHERE id = $1', [id])).rows[0] as { state: string; value: number | null });
  const running = async () => (await storage.createTrials(study.id, [newTrial({ state: 'RUNNING', lease: { owner: 'w', seconds: 60 } })]))[0]!;
  const TELL = "prune_requested THEN 'PRUNED'";
  // A tell: one statement that commits on its own, so it has no transaction id to look up. Once the session that
  // ran it has ended, the trial says what it did. Here it committed, and its answer was lost: the call succeeds.
  const trial = await running();
  let cut = relay.cutAnswerTo(TELL);
  const told = await storage.finishTrial(study.id, trial.id, { state: 'COMPLETE', value: 0.5 }, { token: trial.lease!.token });
  await cut;
  assert.deepEqual([told.state, told.value, told.number], ['COMPLETE', 0.5, trial.number]);
  assert.deepEqual(await stored(trial.id), { state: 'COMPLETE', value: 0.5 });
  // Lost on its way: the trial still runs under its lease, so nothing was written.
  const second = await running();
  cut = relay.dropAt(TELL);
  await assert.rejects(storage.finishTrial(study.id, second.id, { state: 'COMPLETE', value: 0.25 }, { token: second.lease!.token }), nothingWritten);
  await cut;
  assert.deepEqual(await stored(second.id), { state: 'RUNNING', value: null });
  // Its answer lost and the database out of reach: unknown (it committed).
  cut = relay.cutAnswerTo(TELL, { down: true });
  await assert.rejects(storage.finishTrial(study.id, second.id, { state: 'FAIL', failureReason: 'x' }, { token: second.lease!.token }), unknown);
  await cut;
  relay.restore();
  assert.deepEqual(await stored(second.id), { state: 'FAIL', value: null });
  // A new study's row: there under its new id after a lost answer, so the create succeeds.
  cut = relay.cutAnswerTo('INSERT INTO renorm_tune.studies');
  const made = await storage.createStudy({ name: 'made', direction: 'minimize', config: { a: 1 } });
  await cut;
  assert.deepEqual([made.name, made.direction, made.config], ['made', 'minimize', { a: 1 }]);
  assert.equal((await storage.findStudyByName('made'))?.id, made.id);
  cut = relay.dropAt('INSERT INTO renorm_tune.studies');
  await assert.rejects(storage.createStudy({ name: 'never', direction: 'minimize', config: {} }), nothingWritten);
  await cut;
  assert.equal(await storage.findStudyByName('never'), undefined);
  // A write transaction lost once its COMMIT went out is looked up by its id: it committed, so the call succeeds.
  cut = relay.cutAnswerTo('COMMIT');
  await storage.setStudyAttr(study.id, 'k', 1);
  await cut;
  assert.equal((await storage.getStudy(study.id))!.attrs.k, 1);
  // Its COMMIT lost on the way: the transaction was rolled back, and the lookup says so.
  cut = relay.dropAt('COMMIT');
  await assert.rejects(storage.setStudyAttr(study.id, 'k', 3), nothingWritten);
  await cut;
  assert.equal((await storage.getStudy(study.id))!.attrs.k, 1);
  // Its answer lost and the database out of reach for the lookup: unknown (here it had committed).
  cut = relay.cutAnswerTo('COMMIT', { down: true });
  await assert.rejects(storage.setStudyAttr(study.id, 'k', 4), unknown);
  await cut;
  relay.restore();
  assert.equal((await storage.getStudy(study.id))!.attrs.k, 4);
  // A read-only snapshot lost at its COMMIT wrote nothing either way.
  cut = relay.cutAnswerTo('COMMIT');
  await assert.rejects(storage.getTrial(study.id, trial.id), nothingWritten);
  await cut;
  // Lost before anything went out: nothing was written.
  relay.cut();
  await assert.rejects(storage.setStudyAttr(study.id, 'k', 2), nothingWritten);
  relay.restore();
  assert.equal((await storage.getStudy(study.id))!.attrs.k, 4);
}, { edit: (via) => via.searchParams.set('connect_timeout', '2') }));

it('behind a proxy that hands out made-up process ids, a tell still running (waiting for a lock) when its connection is lost is STORAGE_OUTCOME_UNKNOWN, not "nothing was written": it lands after', { timeout: 60_000 }, (t) => throughRelay(t, 'outcomeproxy', async ({ db, relay, storage }) => {
  const study = await storage.createStudy({ name: 'proxy', direction: 'maximize', config: {} });
  const [trial] = await storage.createTrials(study.id, [newTrial({ state: 'RUNNING', lease: { owner: 'w', seconds: 60 } })]);
  const stateOf = () => withPgClient(db.url, async (c) => ((await c.query('SELECT state FROM renorm_tune.trials WHERE id = $1', [trial!.id])).rows[0] as { state: string }).state);
  await withPgClient(db.url, async (blocker) => {
    // Another writer holds the study's row: the tell's statement waits for it on the server.
    await blocker.query('BEGIN');
    await blocker.query('SELECT 1 FROM renorm_tune.studies WHERE id = $1 FOR UPDATE', [study.id]);
    const told = storage.finishTrial(study.id, trial!.id, { state: 'COMPLETE', value: 0.5 }, { token: trial!.lease!.token });
    const outcome = told.then(() => 'succeeded', (e: unknown) => e);
    for (let waiting = 0; waiting === 0;) {
      waiting = ((await blocker.query(`SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE NOT l.granted AND a.datname = current_database()`)).rows[0] as { n: number }).n;
    }
    // The tell's connection is lost; new ones still get through.
    relay.cut();
    relay.restore();
    const e = await outcome;
    assert.ok(e instanceof StorageOutcomeUnknownError, `expected STORAGE_OUTCOME_UNKNOWN (its session still runs it), got ${String(e)}`);
    await blocker.query('COMMIT');
  });
  // Its session, free to go on, commits it.
  let state = await stateOf();
  for (let i = 0; i < 100 && state === 'RUNNING'; i++) {
    await new Promise((r) => setTimeout(r, 50));
    state = await stateOf();
  }
  assert.equal(state, 'COMPLETE', 'the tell landed after its connection was lost');
}, { fakePid: true }));

it('a read-only PostgreSQL (a standby, default_transaction_read_only) answers 503 naming the database and the fix (it was a 500 with the driver\'s words)', { timeout: 60_000 }, async (t) => {
  const db = await createTestDatabase('readonly');
  if ('unavailable' in db) return t.skip(db.unavailable);
  let storage: PgStorage | undefined;
  try {
    const setup = (await PgStorage.connect(db.url)) as PgStorage;
    const study = await setup.createStudy({ name: 'ro', direction: 'maximize', config: {} });
    await setup.close();
    await withPgClient(PG_SERVER, (c) => c.query(`ALTER DATABASE ${db.name} SET default_transaction_read_only = on`));
    storage = (await PgStorage.connect(db.url)) as PgStorage;
    for (const call of [() => storage!.setStudyState(study.id, 'RUNNING'), () => storage!.setStudyAttr(study.id, 'k', 1)]) {
      await assert.rejects(call(), (e: unknown) => {
        assert.ok(e instanceof StorageReadOnlyError, `expected a read-only STORAGE_UNAVAILABLE, got ${String(e)}`);
        assert.equal((e as StorageReadOnlyError).status, 503);
        assert.match((e as Error).message, new RegExp(`${db.name}.*read-only.*fix: point --db at the primary`));
        return true;
      });
    }
    assert.equal((await storage.getStudy(study.id))!.state, 'CREATED');
  } finally {
    await storage?.close().catch(() => undefined);
    await db.drop();
  }
});
