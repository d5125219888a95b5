// The study page's note for a study whose coordinator is alive on the watched queue with no worker to train for it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { queueWarning, studyQueueNote } from '../../dashboard/data/queue_note.js';
import type { QueueStatus } from '../../src/distributed/status.js';
import type { QueueAnswer } from '../../src/server/queue_view.js';

const build = { version: '0.2.0', schema: 1 };
const answer = (o: { coordinatorOf?: string; workers?: Array<{ otherBuild: boolean }> }): QueueAnswer => ({
  watched: true, redis: 'redis://:***@queue-host:6379', prefix: 'lab', slots: 0, jobs: { waiting: 4, active: 0, delayed: 0 },
  coordinators: o.coordinatorOf ? [{ owner: 'head:3:coordinator-c', studyId: o.coordinatorOf, studyName: 'brn', ...build, otherBuild: false }] : [],
  workers: (o.workers ?? []).map((w, i) => ({ owner: `m${i}:1:worker-a`, slots: 1, ...build, version: w.otherBuild ? '0.1.0' : build.version, ...w })),
});

test('no worker alive for a study whose coordinator hands out trials: the note says so and how to start one', () => {
  assert.equal(studyQueueNote(answer({ coordinatorOf: 's1' }), 's1'),
    "No worker is alive on the queue (redis://:***@queue-host:6379, prefix 'lab'): this study's coordinator hands out trials, and they wait. Start `npx renorm-tune worker --db <this database> --redis redis://:***@queue-host:6379 --redis-prefix lab` on a training machine.");
});

test('workers only of another version: named as taking none of its trials', () => {
  assert.match(studyQueueNote(answer({ coordinatorOf: 's1', workers: [{ otherBuild: true }] }), 's1') ?? '', /^No worker of renorm-tune 0\.2\.0 is on the queue: the one there runs another version and takes none of this study's trials, which wait\. Start `/);
  assert.match(studyQueueNote(answer({ coordinatorOf: 's1', workers: [{ otherBuild: true }, { otherBuild: true }] }), 's1') ?? '', /the 2 there run another version and take none/);
});

test('no note: a worker of this version is there, the study has no live coordinator (a local run, or done), or no queue is watched', () => {
  assert.equal(studyQueueNote(answer({ coordinatorOf: 's1', workers: [{ otherBuild: true }, { otherBuild: false }] }), 's1'), null);
  assert.equal(studyQueueNote(answer({ coordinatorOf: 'other' }), 's1'), null);
  assert.equal(studyQueueNote(answer({}), 's1'), null);
  assert.equal(studyQueueNote({ watched: false, message: 'none' }, 's1'), null);
});

test('the landing panel warns when coordinators hand out trials and no worker of this version is alive', () => {
  const status = (o: Parameters<typeof answer>[0]) => answer(o) as QueueStatus;
  assert.equal(queueWarning(status({ coordinatorOf: 's1' })),
    'No worker is alive on this queue, and 4 trials wait. Start `npx renorm-tune worker --db <this database> --redis redis://:***@queue-host:6379 --redis-prefix lab` on a training machine.');
  assert.match(queueWarning(status({ coordinatorOf: 's1', workers: [{ otherBuild: true }] })) ?? '', /^No worker of this version is alive: the one there runs another version, and 4 trials wait\. Start /);
  assert.equal(queueWarning(status({ coordinatorOf: 's1', workers: [{ otherBuild: false }] })), null);
  assert.equal(queueWarning(status({})), null, 'no coordinator: nothing is handed out, so nothing waits for a worker');
});
