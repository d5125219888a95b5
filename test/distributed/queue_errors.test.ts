// What a worker says about a queue error BullMQ reports (src/distributed/worker.ts, queueErrorText).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { queueErrorText } from '../../src/distributed/worker.js';

test('a job whose keys vanished with a Redis restart is explained; other errors pass through', () => {
  assert.equal(
    queueErrorText(new Error('Missing key for job 6929fec90b0e.1.0. moveToFinished')),
    'Missing key for job 6929fec90b0e.1.0. moveToFinished (the job left the queue while it ran: its lock expired while this worker was frozen or cut off from Redis, or Redis restarted empty or was flushed; its trial\'s outcome is in the database)',
  );
  assert.equal(queueErrorText(new Error('NOAUTH Authentication required.')), 'NOAUTH Authentication required.');
});
