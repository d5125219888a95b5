// A queue worker on a machine that cannot train a study (its backend does not start there) stops, instead of failing
// every trial of the queue in turn: given no --backend, it starts the study's native backend before taking any of its
// trials, and one that starts then fails at a trial (a GPU lost meanwhile) hands that trial back. A worker that can
// train then finishes the study with no trial failed. The broken backend is the real one: @tensorflow/tfjs-node-gpu
// is not installed on the test machines; a fake stands in for one that loads.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { cli, describeTrials, exitOf, redisSkip, Scene, until } from './helpers.js';
import { gpuBackendPresent } from '../fixtures/installed.js';
import { fakeGpuEnv } from '../fixtures/fake_gpu/index.js';

const skip = (await redisSkip()) || gpuBackendPresent;
const scenes: Scene[] = [];
after(async () => {
  for (const s of scenes) await s.cleanup();
});

test('a worker whose study\'s backend does not start stops before taking a trial; another worker finishes the study, nothing FAILs', { skip, timeout: 180_000 }, async () => {
  const s = await Scene.create('sqlite', 'wants-gpu', { backend: 'node-gpu', scenario: { steps: 10 }, budget: { trials: 3 }, finalValidation: { seeds: 0, race: { candidates: 1 } } });
  scenes.push(s);
  const coordinator = s.coordinator();
  await until('the study in the database', async () => (await s.read()).study);
  // The real trial worker, one process (the study's native backend may not share a process with threads).
  const broken = s.track(cli(['worker', '--db', s.db, '--redis', s.redis, '--redis-prefix', s.prefix, '--isolation', 'process']));
  const gone = await exitOf(broken, 120_000);
  assert.equal(gone.code, 78, `exit 78: a supervisor does not start it again\n${gone.out}`);
  assert.match(gone.out, /\[worker\] study 'wants-gpu' asks for backend 'node-gpu', which does not start on this machine: stopping before taking any of its trials/);
  assert.doesNotMatch(gone.out, /: training \(lease token/, 'no trial was claimed');
  assert.match(gone.out, /error: this machine cannot train study 'wants-gpu': backend 'node-gpu': @tensorflow\/tfjs-node-gpu is not installed or failed to load .*\(fix: npm install @tensorflow\/tfjs-node-gpu@4\.22\.0 where renorm-tune is installed \(npm install -g beside a global install\), or choose backend 'wasm'\)/);
  const { trials: meanwhile } = await s.read();
  assert.deepEqual(meanwhile.filter((t) => t.state === 'FAIL' || t.state === 'RUNNING').map((t) => `#${t.number} ${t.state}`), [], describeTrials(meanwhile));
  assert.ok(meanwhile.every((t) => t.retries === 0), 'handed back, not counted as retries');

  // A worker that can: here, one told to train every trial on wasm whatever the study asks.
  const good = s.worker(['--backend', 'wasm']);
  const done = await exitOf(coordinator, 120_000).catch((err: Error) => assert.fail(`${err.message}\nworker:\n${good.out()}`));
  assert.equal(done.code, 0, `${done.out}\nworker:\n${good.out()}`);
  const { study, trials } = await s.read();
  assert.equal(study?.state, 'COMPLETE');
  assert.deepEqual(trials.filter((t) => t.state !== 'COMPLETE').map((t) => `#${t.number} ${t.state}`), [], describeTrials(trials));
  assert.equal((await exitOf(good, 30_000)).code, 0);
});

/** A study asking for node-gpu, its coordinator, and a worker given no --backend on device 7 of a fake tfjs-node-gpu. */
async function gpuWorker(name: string, gpu: false | 'probe') {
  // tfjs-node-gpu is a fake here (test/fixtures/fake_gpu) whose TensorFlow, like the real one without CUDA 11.2 and
  // cuDNN 8.1 or with CUDA_VISIBLE_DEVICES naming no GPU, finds none: without the check it would train on the CPU.
  const s = await Scene.create('sqlite', name, { backend: 'node-gpu', scenario: { steps: 10 }, budget: { trials: 3 }, finalValidation: { seeds: 0, race: { candidates: 1 } } });
  scenes.push(s);
  const coordinator = s.coordinator();
  await until('the study in the database', async () => (await s.read()).study).catch((err: Error) => assert.fail(`${err.message}\n${coordinator.out()}`));
  const env = fakeGpuEnv(gpu) as Record<string, string>;
  const worker = s.track(cli(['worker', '--db', s.db, '--redis', s.redis, '--redis-prefix', s.prefix, '--devices', '7'], env));
  const gone = await exitOf(worker, 120_000);
  const { trials } = await s.read();
  assert.deepEqual(trials.filter((t) => t.state === 'FAIL' || t.state === 'RUNNING' || t.state === 'COMPLETE').map((t) => `#${t.number} ${t.state}`), [], describeTrials(trials));
  assert.ok(trials.every((t) => t.retries === 0), 'handed back, not counted as retries');
  coordinator.child.kill('SIGINT');
  await exitOf(coordinator, 60_000);
  return gone;
}

test('a worker given no --backend, for a study asking for node-gpu, whose tfjs-node-gpu finds no GPU: it starts the backend before taking a trial, and stops with 78', { skip, timeout: 180_000 }, async () => {
  // Given no --backend, the worker learns what its trials load from the study, at its first job: the start-up check
  // runs then, on each of its devices, before a trial is claimed.
  const gone = await gpuWorker('no-gpu', false);
  assert.equal(gone.code, 78, gone.out);
  assert.match(gone.out, /\[worker\] study 'no-gpu' asks for backend 'node-gpu', which does not start on this machine: stopping before taking any of its trials/);
  assert.doesNotMatch(gone.out, /: training \(lease token/, 'no trial was claimed');
  assert.match(gone.out, /error: this machine cannot train study 'no-gpu': device 7: backend 'node-gpu': @tensorflow\/tfjs-node-gpu loaded, but TensorFlow found no GPU and would train on the CPU: CUDA_VISIBLE_DEVICES is '7' in this process/);
});

test('a GPU that passed that check but is gone at the first trial: the trial is handed back, exit 78', { skip, timeout: 180_000 }, async () => {
  const gone = await gpuWorker('lost-gpu', 'probe');
  assert.equal(gone.code, 78, gone.out);
  assert.match(gone.out, /\[worker\] study 'lost-gpu' asks for backend node-gpu on the GPU on device 7: started in a process of its own, as its trials will be/);
  assert.match(gone.out, /\[worker\] trial #\d+ .*of 'lost-gpu': handed back to the queue: this machine cannot train it; stopping/);
  assert.match(gone.out, /error: this machine cannot train trial #\d+ of 'lost-gpu': backend 'node-gpu': @tensorflow\/tfjs-node-gpu loaded, but TensorFlow found no GPU and would train on the CPU: CUDA_VISIBLE_DEVICES is '7' in this process/);
});
