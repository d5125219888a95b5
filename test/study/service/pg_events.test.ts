// Live events across processes on PostgreSQL: a change made through one connection reaches another service's subscriber by LISTEN/NOTIFY.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { StudyEvent } from '../../../src/study/api_types.js';
import { createTestDatabase } from '../../fixtures/pg.js';
import { baseConfig } from './fakes.js';
import { twoServers } from './pg_servers.js';

it('a subscriber on one PgStorage sees another connection\'s ask, report and tell trial by trial, pushed (the watcher never polls)', { timeout: 60_000 }, async (t) => {
  const db = await createTestDatabase('events');
  if ('unavailable' in db) return t.skip(db.unavailable);
  // An hour between polls: only a notification can deliver the event within the test's time.
  const servers = await twoServers(db.url, { watchIntervalMs: 3_600_000 });
  const { a, b, sa } = servers;
  try {
    const study = await b.createStudy(baseConfig({ executor: 'external' }));
    const events: StudyEvent[] = [];
    const off = await a.subscribe(study.id, (e) => events.push(e));
    await sa.changesListening?.();
    const waitFor = async (n: number) => {
      for (let i = 0; i < 100 && events.length < n; i++) await new Promise((r) => setTimeout(r, 50));
    };
    const [trial] = await b.ask(study.id, 1);
    await waitFor(1);
    assert.ok(events.length >= 1, 'the ask made through b reached a');
    assert.ok(events.some((e) => e.type === 'trial' && e.trial.id === trial!.id && e.trial.state === 'RUNNING'), `the asked trial is told: ${JSON.stringify(events)}`);
    for (let i = 0; i < 100 && !events.some((e) => e.type === 'study' && e.state === 'RUNNING'); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(events.some((e) => e.type === 'study' && e.state === 'RUNNING'), 'the study turning RUNNING is seen too');
    const told = (e: StudyEvent) => e.type === 'trial' && e.trial.state === 'COMPLETE';
    await b.report(study.id, trial!.id, 10, 0.4);
    await b.tell(study.id, trial!.id, { value: 0.5 });
    for (let i = 0; i < 100 && !events.some(told); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(events.some((e) => e.type === 'report' && e.trialId === trial!.id && e.point.step === 10 && e.point.value === 0.4), 'the report made through b reached a');
    assert.ok(events.some((e) => told(e) && e.type === 'trial' && e.trial.value === 0.5), 'the tell made through b reached a');
    assert.ok(events.every((e) => !(e.type === 'study' && e.refetch)), 'nothing needed a reload');
    assert.equal((await a.getTrial(study.id, trial!.id)).state, 'COMPLETE');
    off();
  } finally {
    await servers.close();
    await db.drop();
  }
});

it('a study deleted through another connection reaches the subscriber as one `deleted` event, pushed', { timeout: 60_000 }, async (t) => {
  const db = await createTestDatabase('events_deleted');
  if ('unavailable' in db) return t.skip(db.unavailable);
  const servers = await twoServers(db.url, { watchIntervalMs: 3_600_000 });
  const { a, b, sa } = servers;
  try {
    const study = await b.createStudy(baseConfig({ executor: 'external' }));
    await b.ask(study.id, 1);
    const events: StudyEvent[] = [];
    const off = await a.subscribe(study.id, (e) => events.push(e));
    await sa.changesListening?.();
    await b.deleteStudy(study.id);
    for (let i = 0; i < 200 && !events.some((e) => e.type === 'deleted'); i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(events, [{ type: 'deleted', studyId: study.id }]);
    off();
  } finally {
    await servers.close();
    await db.drop();
  }
});
