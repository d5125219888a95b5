// Job ids and job data: one id per trial round, so duplicate enqueues are no-ops and a requeued trial gets a new job.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { THIS_BUILD } from '../../src/distributed/compat.js';
import { jobIdOf, parseJobData, WORKER_SETTINGS } from '../../src/distributed/queue.js';

test('jobIdOf: same trial and round, same id; a new round, a new id; never an integer or a colon (BullMQ refuses both)', () => {
  assert.equal(jobIdOf('abc123', { id: 7, retries: 0 }), jobIdOf('abc123', { id: 7, retries: 0 }));
  assert.notEqual(jobIdOf('abc123', { id: 7, retries: 0 }), jobIdOf('abc123', { id: 7, retries: 1 }));
  assert.notEqual(jobIdOf('abc123', { id: 7, retries: 0 }), jobIdOf('abc124', { id: 7, retries: 0 }));
  const id = jobIdOf('123456', { id: 1, retries: 0 });
  assert.ok(!id.includes(':') && String(parseInt(id, 10)) !== id, id);
});

test('parseJobData says what is missing', () => {
  assert.deepEqual(parseJobData({ studyId: 's', trialId: 1, round: 0, ...THIS_BUILD }), { studyId: 's', trialId: 1, round: 0, ...THIS_BUILD });
  assert.equal(parseJobData(null), 'not an object');
  assert.equal(parseJobData({ trialId: 1, round: 0, ...THIS_BUILD }), 'no studyId');
  assert.equal(parseJobData({ studyId: 's', trialId: '1', round: 0, ...THIS_BUILD }), 'no trialId/round');
  assert.equal(parseJobData({ studyId: 's', trialId: 1, round: 0 }), 'no version/schema');
});

test('BullMQ never redelivers a stalled job: the database lease is the only recovery path', () => {
  assert.equal(WORKER_SETTINGS.maxStalledCount, 0);
});
