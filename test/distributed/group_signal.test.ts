// A stop signal sent to a whole process group, as a terminal's Ctrl-C and systemd's stop send it: with --isolation
// process the trial processes get the signal too, and the trial must still be handed back, not FAIL, by a queue
// worker and by a local run alike.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TrialRecord } from '../../src/study/types.js';
import { cli, countingTrainer, describeTrials, exitOf, redisSkip, Scene, until } from './helpers.js';

const skip = await redisSkip();
const scenes: Scene[] = [];
after(async () => {
  for (const s of scenes) await s.cleanup();
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`${signal} to a process-isolated worker's process group: its trial is handed back (WAITING, no retry), and it exits 0`, { skip }, async () => {
    const s = await Scene.create('sqlite', `group-${signal.toLowerCase()}`, { scenario: { steps: 400, evalInterval: 20 }, budget: { trials: 4 }, finalValidation: { seeds: 0 }, leaseSeconds: 6 });
    scenes.push(s);
    const coordinator = s.coordinator();
    await until('the study in the database', async () => (await s.read()).study);
    const w = s.worker(['--isolation', 'process'], s.db, { ownGroup: true });
    const mid = (): Promise<TrialRecord | undefined> => s.read().then(({ trials }) =>
      trials.find((t) => t.state === 'RUNNING' && t.lease?.owner.split(':')[1] === String(w.child.pid) && t.intermediate.length > 0));
    const victim = await until('the worker mid-trial', mid, 60_000);
    process.kill(-w.child.pid!, signal);
    const left = await exitOf(w, 30_000);
    assert.equal(left.code, 0, left.out);
    const back = (await s.read()).trials.find((t) => t.id === victim.id)!;
    assert.equal(back.state, 'WAITING', `${describeTrials((await s.read()).trials)}\n${left.out}`);
    assert.equal(back.retries, 0, 'a clean hand-back is not a retry');
    coordinator.child.kill('SIGINT');
    await exitOf(coordinator, 30_000);
  });
}

test('Ctrl-C to a local `run --isolation process` and its trial processes: the study STOPPED, its running trials WAITING again, none FAILed', async () => {
  const s = await Scene.create('sqlite', 'group-local', { scenario: { steps: 400, evalInterval: 20 }, budget: { trials: 4 }, finalValidation: { seeds: 0 } });
  scenes.push(s);
  const run = s.track(cli(['run', s.config, '--db', s.db, '--isolation', 'process', '--workers', '2', '--trial-worker', countingTrainer],
    { RENORM_TEST_TRAIN_LOG: s.log, RENORM_TEST_STEP_MS: '10' }, { ownGroup: true }));
  await until('two trials mid-training', async () => (await s.read()).trials.filter((t) => t.state === 'RUNNING' && t.intermediate.length > 0).length === 2, 60_000);
  process.kill(-run.child.pid!, 'SIGINT');
  const ended = await exitOf(run, 30_000);
  assert.equal(ended.code, 130, ended.out);
  const { study, trials } = await s.read();
  assert.equal(study!.state, 'STOPPED');
  assert.deepEqual(trials.filter((t) => t.state === 'FAIL' || t.state === 'RUNNING'), [], describeTrials(trials));
  assert.ok(trials.every((t) => t.retries === 0), describeTrials(trials));
});
