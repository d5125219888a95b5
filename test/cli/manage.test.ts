// The management verbs end to end through the CLI (create, extend, stop, resume, rename, enqueue, delete), and the wording of `show`.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { copyFileSync, existsSync, lstatSync, mkdtempSync, symlinkSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../fixtures/cli.js';
import { register as registerManage, budgetArg, scheduleArg } from '../../src/cli/manage.js';
import { register as registerStudy, progress, showText, studiesText } from '../../src/cli/study.js';
import { trialsCsv } from '../../src/shared/trials_csv.js';
import { trialText } from '../../src/cli/trial_text.js';
import { DataError } from '../../src/errors.js';
import { SqliteStorage } from '../../src/study/storage/index.js';
import { createStudyService } from '../../src/study/service/defaults.js';
import { StudyStoppedError } from '../../src/study/errors.js';
import { validateStudyConfig } from '../../src/study/config.js';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'renorm-manage-'));
const db = join(dir, 'studies.db');
after(() => rmSync(dir, { recursive: true, force: true }));

/** One command in-process; what it printed to stdout. */
const cli = (...args: string[]) => runCli((program) => { registerManage(program); registerStudy(program); }, ...args);

/** The installed binary with `input` on stdin. */
function binary(args: string[], input: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [main, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => resolve({ code, out, err }));
    child.stdin.end(input);
  });
}

async function withSvc<T>(fn: (svc: ReturnType<typeof createStudyService>) => Promise<T>): Promise<T> {
  const storage = new SqliteStorage(db);
  const svc = createStudyService(storage);
  try {
    return await fn(svc);
  } finally {
    svc.close();
    await storage.close();
  }
}

/** These studies test the verbs: no baselines or evidence phase (their own tests cover those). */
const VERBS_ONLY = { baselines: false, finalValidation: { seeds: 0, race: { candidates: 1 } } };

const file = (name: string, value: unknown) => {
  const p = join(dir, name);
  writeFileSync(p, typeof value === 'string' ? value : JSON.stringify(value));
  return p;
};

describe('renorm-tune create/extend/stop/resume/rename/enqueue/delete', () => {
  before(async () => {
    const created = JSON.parse(await cli('create', file('ext.json', { name: 'outside', executor: 'external', objective: { metric: 'top1', direction: 'maximize' }, budget: { trials: 2 }, totalSteps: 1000, optimizer: 'random', ...VERBS_ONLY }), '--db', db, '--json'));
    assert.equal(created.name, 'outside');
  });

  it('create makes an external study from the minimal config, warm-started when asked', async () => {
    await withSvc(async (svc) => {
      const [t] = await svc.ask('outside', 1);
      await svc.tell('outside', { number: t!.number }, { value: 0.8 });
    });
    const warm = JSON.parse(await cli('create', file('ext2.json', { name: 'outside-2', executor: 'external', objective: { metric: 'top1', direction: 'maximize' }, optimizer: 'random', ...VERBS_ONLY }), '--db', db, '--warm-start-from', 'outside', '--json'));
    assert.deepEqual(warm.warmStart.copied, 1);
    const shown = await cli('show', 'outside-2', '--db', db);
    assert.match(shown, /warm start 1 trials copied from outside/);
    assert.match(shown, /#0\s+COMPLETE\s+warm-start\s+0\.8/);
    // A refused config exits 78 as run's does (it was 1, which a retrying script tries again).
    const refused = await binary(['create', file('bad-name.json', { name: 5, executor: 'external' }), '--db', db], '');
    assert.equal(refused.code, 78, refused.err);
    assert.match(refused.err, /name: must be 1-100 characters/);
  });

  it('show --csv prints every trial as the dashboard\'s CSV; with --json it is refused', async () => {
    const csv = await cli('show', 'outside-2', '--db', db, '--csv');
    const view = JSON.parse(await cli('show', 'outside-2', '--db', db, '--json'));
    assert.equal(csv, trialsCsv(view.trials), 'the same bytes as the dashboard\'s download of the same trials');
    const lines = csv.trimEnd().split('\r\n');
    assert.equal(lines.length, view.trials.length + 1);
    assert.match(lines[0]!, /^id,number,role,state,value,/);
    assert.match(lines[1]!, /^\d+,0,warm-start,COMPLETE,0\.8,/);
    await assert.rejects(cli('show', 'outside-2', '--db', db, '--csv', '--json'), /--csv: cannot be given with --json.*--json for the whole study, --csv for its trials/);
  });

  it('show --trial prints one trial: how it ended, schedule, params, curve; with --json the body of GET /trials/:number', async () => {
    await cli('create', file('one.json', { name: 'one-trial', executor: 'external', objective: { metric: 'top1', direction: 'maximize' }, budget: { trials: 3 }, totalSteps: 1000, optimizer: 'random', ...VERBS_ONLY }), '--db', db);
    const number = await withSvc(async (svc) => {
      const [first] = await svc.ask('one-trial', 1);
      await svc.release('one-trial', { number: first!.number }, first!.lease!.token);
      const [again] = await svc.ask('one-trial', 1);
      assert.equal(again!.number, first!.number, 'a trial handed back is handed out first');
      await svc.tell('one-trial', { number: again!.number }, { value: 0.8 });
      const [t] = await svc.ask('one-trial', 1);
      for (let step = 100; step <= 1200; step += 100) await svc.report('one-trial', { number: t!.number }, step, step / 2000);
      return t!.number;
    });
    const text = await cli('show', 'one-trial', '--db', db, '--trial', String(number));
    assert.match(text, new RegExp(`^trial     #${number} \\(id \\d+\\), RUNNING\n`));
    assert.match(text, /\nlease     held by external \(token 1\) until \d{4}-/);
    assert.match(text, /\ncurve     12 reports: step 100 0\.05, step 200 0\.1, step 300 0\.15, step 400 0\.2, step 500 0\.25, … 2 more …, step 800 0\.4, .*step 1200 0\.6\n/);
    const json = JSON.parse(await cli('show', 'one-trial', '--db', db, '--trial', String(number), '--json'));
    const listed = JSON.parse(await cli('show', 'one-trial', '--db', db, '--json')).trials.find((t: { number: number }) => t.number === number);
    assert.deepEqual(json, { trial: listed }, 'the trial as the study view lists it');
    const done = await cli('show', 'one-trial', '--db', db, '--trial', '0');
    assert.match(done, /^trial     #0 \(id \d+\), COMPLETE, top1 0\.8\n/, "named by the study's metric");
    assert.match(done, /\nseed      \d+, handed out 2 times\n/, 'handed back once, then out again');
    assert.match(text, /\nseed      \d+\n/, 'a trial out once says nothing of it');
    assert.match(done, /\ncurve     no reports\n/);
    // An empty file is no database for a command that reads: SQLite would have written a schema into it.
    const empty = join(dir, 'empty.db');
    writeFileSync(empty, '');
    await assert.rejects(cli('studies', '--db', empty), /empty\.db: is an empty file \(0 bytes\), not a database yet; left as it was/);
    assert.equal(readFileSync(empty).length, 0, 'left as it was');
    // The store's hint names the database the command was given, so it lists the right one.
    await assert.rejects(cli('show', 'no-such-study', '--db', db), (e: Error) => e.message.includes(`(neither an id nor a name; \`npx renorm-tune studies --db ${db}\` lists them)`));
    await assert.rejects(cli('show', 'one-trial', '--db', db, '--trial', 'abc'), /--trial: must be an integer >= 0, got 'abc' \(fix: e\.g\. --trial 7\)/);
    await assert.rejects(cli('show', 'one-trial', '--db', db, '--trial', '999'), (e: Error) => e.message.includes(`study 'one-trial' has no trial #999; its trials are #0-#${number} (fix: \`npx renorm-tune show one-trial --db ${db}\` lists them)`), "the CLI's fix, not the REST route's");
    await assert.rejects(cli('show', 'one-trial', '--db', db, '--trial', '0', '--csv'), /--csv: cannot be given with --trial/);
    // A --db path with a space and a quote: the fix pastes into a shell as it is printed.
    const odd = join(dir, "it's my studies.db");
    copyFileSync(db, odd);
    const fix = await cli('show', 'one-trial', '--db', odd, '--trial', '999').then(() => assert.fail('no trial #999'), (e: Error) => /\(fix: `npx renorm-tune show one-trial --db (.*)` lists them\)/.exec(e.message)?.[1]);
    assert.equal(fix, `'${dir}/it'\\''s my studies.db'`);
    assert.equal(execFileSync('sh', ['-c', `printf %s ${fix}`], { encoding: 'utf8' }), odd, 'the shell reads the path back whole');
    await withSvc((svc) => svc.deleteStudy('one-trial'));
  });

  it('extend takes a new total or +N and the study takes asks again', async () => {
    await withSvc((svc) => svc.ask('outside', 1));
    assert.match(await cli('extend', 'outside', '--db', db, '--trials', '+3'), /budget 5 trials/);
    assert.equal(JSON.parse(await cli('extend', 'outside', '--db', db, '--trials', '6', '--json')).budgetTrials, 6);
    await assert.rejects(cli('extend', 'outside', '--db', db, '--trials', '4'), /above the current budget.trials = 6/);
    await assert.rejects(cli('extend', 'outside', '--db', db), /--trials and\/or --time-minutes.*e\.g\. npx renorm-tune extend my-study --trials \+10/);
    // A limit the study lacks, given as +N or as a total, gets the one answer that helps (+N said "give the new total",
    // which was then refused too).
    for (const m of ['+1', '1']) await assert.rejects(cli('extend', 'outside', '--db', db, '--time-minutes', m), /has no timeMinutes budget to extend .*extend trials instead/);
    assert.equal((await withSvc((svc) => svc.ask('outside', 10))).length, 4);
  });

  it('stop refuses asks until resume; rename keeps the id', async () => {
    assert.match(await cli('stop', 'outside', '--db', db), /stopped .*resume it with npx renorm-tune resume outside/);
    await withSvc((svc) => assert.rejects(svc.ask('outside', 1), StudyStoppedError));
    assert.match(await cli('extend', 'outside', '--db', db, '--trials', '+1'), /now STOPPED \(it was stopped: `npx renorm-tune resume outside` takes asks again\)$/m, 'an outside trainer\'s study is resumed, not run');
    assert.match(await cli('resume', 'outside', '--db', db), /is RUNNING/);
    const id = JSON.parse(await cli('rename', 'outside', 'outside-renamed', '--db', db, '--json')).id;
    assert.equal(JSON.parse(await cli('show', id, '--db', db, '--json')).name, 'outside-renamed');
    await assert.rejects(cli('rename', 'outside-renamed', 'outside-2', '--db', db), /already exists/);
    await assert.rejects(cli('rename', 'outside-renamed', 'bad name', '--db', db), /<name>: must be 1-100 characters/);
  });

  it('enqueue takes paper, a JSON file (an export brings its momentum), or the JSON itself', async () => {
    const q1 = JSON.parse(await cli('enqueue', 'outside-2', 'paper', '--db', db, '--json'));
    assert.deepEqual([q1.role, q1.state, q1.schedule], ['enqueued', 'WAITING', { kind: 'paper' }]);
    assert.match(await cli('enqueue', 'outside-2', '{"kind": "ramp", "shape": "cosine", "warmup": 0.2}', '--db', db, '--renorm-momentum', '0.95'), /queued trial #\d+ \(a point of the search space\): cosine ramp/);
    assert.match(await cli('enqueue', 'outside-2', '{"kind": "formula", "rmax": "1 + t", "dmax": "t"}', '--db', db), /outside the search space/);
    const exported = JSON.parse(await cli('export', 'outside-renamed', '--db', db));
    const q4 = JSON.parse(await cli('enqueue', 'outside-2', file('best.json', exported), '--db', db, '--json'));
    assert.deepEqual(q4.schedule, exported.schedule);
    assert.equal(q4.params.renormMomentum, exported.renormMomentum, "the export's momentum comes with it");
    await assert.rejects(cli('enqueue', 'outside-2', '{"kind": "ramp"', '--db', db), (e: unknown) => e instanceof DataError && /line 1, column 16/.test(e.message));
    await assert.rejects(cli('enqueue', 'outside-2', 'paper', '--db', db, '--renorm-momentum', '1.2'), /\[0, 1\)/);
    const asked = await withSvc((svc) => svc.ask('outside-2', 4, { totalSteps: 1000 }));
    assert.deepEqual(asked.map((t) => t.role), ['enqueued', 'enqueued', 'enqueued', 'enqueued'], 'handed out before any suggestion');
    assert.equal(asked[1]!.renormMomentum, 0.95);
  });

  it('delete asks first: no (or no answer) keeps the study and exits 1, yes deletes it; --yes does not ask', async () => {
    const no = await binary(['delete', 'outside-2', '--db', db], 'n\n');
    assert.equal(no.code, 1, no.err);
    assert.match(no.err, /delete study outside-2 \(\w+\) and its \d+ trials, 4 of them running\? This cannot be undone\. \[y\/N\] not deleted/);
    assert.equal((await binary(['delete', 'outside-2', '--db', db], '')).code, 1, 'a closed stdin is no');
    assert.equal((await withSvc((svc) => svc.listStudies())).length, 2);
    const yes = await binary(['delete', 'outside-2', '--db', db], 'y\n');
    assert.equal(yes.code, 0, yes.err);
    assert.match(yes.out, /deleted study outside-2 \(\w+\) and its \d+ trials/);
    const quiet = await binary(['delete', 'outside-renamed', '--db', db, '--yes', '--json'], '');
    assert.equal(quiet.code, 0, quiet.err);
    assert.equal(JSON.parse(quiet.out).name, 'outside-renamed');
    assert.deepEqual(await withSvc((svc) => svc.listStudies()), []);
  });

  it('budgetArg and scheduleArg read what people type', () => {
    assert.equal(budgetArg('40', '--trials', 10), 40);
    assert.equal(budgetArg('+10', '--trials', 30), 40);
    assert.equal(budgetArg('+0.5', '--time-minutes', 1), 1.5);
    assert.equal(budgetArg('+5', '--trials', undefined), 5, 'a limit the study lacks: the service names the one it has');
    assert.throws(() => budgetArg('ten', '--trials', 1), /\+N/);
    assert.deepEqual(scheduleArg('batchnorm'), { schedule: { kind: 'batchnorm' } });
  });
});

describe('show wording', () => {
  it('says what is finished, running and queued, in words, and that a stopped study\'s queue waits', async () => {
    const local = validateStudyConfig({ name: 'local', scenario: { steps: 100 }, budget: { trials: 6 } });
    const view = await withSvc(async (svc) => {
      const s = await svc.createStudy(local);
      await svc.stopStudy(s.id);
      return svc.getStudyView(s.id);
    });
    const text = showText(view);
    assert.match(text, /progress  0 of 6 finished; 2 queued \(the study is stopped\)/);
    assert.match(text, /^study     local \(\w+\), stopped on request at [\d-]+T[\d:.]+Z \(until `npx renorm-tune resume` or POST \.\.\.\/resume, a run under --unless-stopped leaves it so\), built-in trainer\n/);
    assert.match(showText({ ...view, stopRequestedAt: null }), /^study     local \(\w+\), STOPPED, built-in trainer\n/, 'stopped by a signal');
    assert.match(studiesText([view]), /\nlocal\s+\w+\s+STOPPED \(held\)\s+0\/6, 2 queued\s.*\n\(held: stopped on request; a run under --unless-stopped leaves it so until `npx renorm-tune resume`\)\n$/);
    assert.doesNotMatch(studiesText([{ ...view, stopRequestedAt: null }]), /held/);
    assert.match(showText({ ...view, state: 'RUNNING' }), /^study     local \(\w+\), RUNNING, built-in trainer\n/, 'running again: a summary read before is not believed');
    assert.doesNotMatch(text, /running/);
    assert.equal(progress(view), '0/6, 2 queued');
    const busy = { ...view, state: 'RUNNING' as const, counts: { WAITING: 2, RUNNING: 1, COMPLETE: 2, PRUNED: 0, FAIL: 1 } };
    assert.match(showText(busy), /progress  3 of 6 finished \(2 complete, 1 failed\); 1 running, 2 queued\n/);
    assert.equal(progress(busy), '3/6, 1 running, 2 queued');
  });

  it('says what the trials trained on, most first, and where tfjs-node-gpu found no GPU; nothing when no trial says', async () => {
    const local = validateStudyConfig({ name: 'fleet', scenario: { steps: 100 }, budget: { trials: 6 } });
    const view = await withSvc(async (svc) => svc.getStudyView((await svc.createStudy(local)).id));
    const t0 = { id: 1, number: 0, state: 'COMPLETE' as const, role: 'search', value: 0.5, failureReason: null, schedule: { kind: 'batchnorm' as const } };
    const ran = [{ backend: 'wasm', device: 'CPU' }, { backend: 'node-gpu', device: 'GPU' }, { backend: 'node-gpu', device: 'CPU' }, { backend: 'node-gpu', device: 'GPU' }, null, { backend: 'fake' }];
    const trials = ran.map((metrics, i) => ({ ...t0, id: i + 1, number: i, metrics })) as unknown as typeof view.trials;
    assert.match(showText({ ...view, trials }), /\ntrained   node-gpu on the GPU \(2 trials\), wasm on the CPU \(1 trial\), node-gpu on the CPU \(1 trial\), fake \(1 trial\); node-gpu on the CPU: TensorFlow found no GPU on those machines\n/);
    assert.match(showText({ ...view, trials: trials.slice(0, 2) }), /\ntrained   wasm on the CPU \(1 trial\), node-gpu on the GPU \(1 trial\)\n/);
    assert.doesNotMatch(showText({ ...view, trials: trials.slice(4, 5) }), /trained/);
    // The race's and the final validation's runs are trials too, which the progress line does not count: said so.
    const after = trials.map((t, i) => ({ ...t, role: (['race:1', 'final:best', 'final:paper@x3', 'search', 'search', 'baseline:paper'] as const)[i]! }));
    assert.match(showText({ ...view, trials: after }), /\ntrained   node-gpu on the GPU \(2 trials\), wasm on the CPU \(1 trial\), node-gpu on the CPU \(1 trial\), fake \(1 trial\); 3 of the 5 are race or final validation runs; node-gpu on the CPU: TensorFlow/);
    assert.match(showText({ ...view, trials: after.slice(0, 2) }), /\ntrained   wasm on the CPU \(1 trial\), node-gpu on the GPU \(1 trial\); all 2 are race or final validation runs\n/);
    assert.match(showText({ ...view, trials: after.slice(1, 2) }), /\ntrained   node-gpu on the GPU \(1 trial\); it is a race or final validation run\n/);
    assert.match(showText({ ...view, trials: after.slice(3, 4) }), /\ntrained   node-gpu on the GPU \(1 trial\)\n/, 'a search trial alone: nothing to say');
  });

  it('heads a study with who trains it (a run, queue workers, both), and with the trainer its config names where no trial says', async () => {
    const local = validateStudyConfig({ name: 'trainers', scenario: { steps: 100 }, budget: { trials: 6 } });
    const view = await withSvc(async (svc) => svc.getStudyView((await svc.createStudy(local)).id));
    const t0 = { id: 1, number: 0, state: 'COMPLETE' as const, role: 'search', value: 0.5, failureReason: null, schedule: { kind: 'batchnorm' as const }, lease: null, metrics: null };
    const trial = (i: number, by: { trainedBy?: string; lease?: string }) =>
      ({ ...t0, id: i + 1, number: i, ...(by.lease ? { state: 'RUNNING' as const, lease: { owner: by.lease, token: 1, expiresAt: '2026-12-07T05:00:00.000Z' } } : {}), metrics: by.trainedBy ? { trainedBy: by.trainedBy } : null });
    const head = (trials: Array<ReturnType<typeof trial>>, executor = view.executor) =>
      showText({ ...view, executor, trials: trials as unknown as typeof view.trials }).split('\n')[0]!;
    const fleet = [
      trial(0, { trainedBy: 'laptop:12:run-abcdef' }),
      trial(1, { trainedBy: 'laptop:14:run-123456' }),
      trial(2, { trainedBy: 'gpu-1:41:worker-aaaaaa' }),
      trial(3, { trainedBy: 'gpu-1:41:worker-aaaaaa' }),
      trial(4, { trainedBy: 'gpu-1:52:worker-bbbbbb' }),
      trial(5, { lease: 'gpu-2:7:worker-cccccc' }),
      trial(6, { lease: 'external:ask-1' }),
      trial(7, { trainedBy: 'by hand' }),
    ];
    assert.match(head(fleet), /, CREATED, trained by a run on laptop and 3 queue workers on gpu-1, gpu-2$/);
    assert.match(head(fleet.slice(2)), /, trained by 3 queue workers on gpu-1, gpu-2$/, 'a queue study is not called local');
    assert.match(head(fleet.slice(0, 2)), /, trained by a run on laptop$/);
    const many = ['a', 'b', 'c', 'd'].map((h, i) => trial(i, { trainedBy: `${h}:1:worker-00000${i}` }));
    assert.match(head(many), /, trained by 4 queue workers on 4 hosts$/);
    assert.match(head(fleet.slice(6)), /, CREATED, built-in trainer$/, 'nobody named yet: the config\'s trainer, in the landing page\'s words');
    assert.match(head([], 'external'), /, outside trainer$/);
  });

  it('show --trial says what a trial trained on and who trained it, as far as its metrics say', () => {
    const t = { id: 3, number: 2, state: 'COMPLETE' as const, role: 'search' as const, params: {}, schedule: { kind: 'batchnorm' as const }, value: 0.9, failureReason: null, seed: 1,
      intermediate: [], lease: null, retries: 0, claims: 1, pruneRequested: false, createdAt: '2026-12-07T00:00:00.000Z', startedAt: null, finishedAt: null, studyId: 's' };
    const text = (metrics: Record<string, unknown> | null) => trialText({ ...t, metrics }, 'valAccuracy');
    assert.match(text({ backend: 'node-gpu', device: 'GPU', trainedBy: 'gpu-1:41:worker-aaaaaa' }), /\ntrained   node-gpu on the GPU, by gpu-1:41:worker-aaaaaa\n/);
    assert.match(text({ trainedBy: 'gpu-1:41:worker-aaaaaa' }), /\ntrained   by gpu-1:41:worker-aaaaaa\n/, 'a trial that failed before its trainer said anything');
    assert.match(text({ backend: 'wasm', device: 'CPU' }), /\ntrained   wasm on the CPU\n/, 'a trial of an older version names no trainer');
    assert.doesNotMatch(text(null), /trained/, 'an outside trainer\'s trial says neither');
    const held = { ...t, state: 'RUNNING' as const, value: null, metrics: null, lease: { owner: 'external', token: 2, expiresAt: '2026-12-07T01:00:00.000Z' } };
    assert.match(trialText(held, 'valAccuracy', Date.parse('2026-12-07T00:59:00.000Z')), /\nlease     held by external \(token 2\) until 2026-12-07T01:00:00\.000Z\n/);
    assert.match(trialText(held, 'valAccuracy', Date.parse('2026-12-07T01:00:01.000Z')), /until 2026-12-07T01:00:00\.000Z \(expired: the trial is queued again at the next ask/);
  });

  it('prints what a trainer sent inert: a failure reason\'s escape sequences and line breaks are written out, in show and show --trial', async () => {
    const evil = '\u001b]0;pwned\u0007\u001b[31mRED\u001b[0m\r\nfake line\u202e';
    const shown = 'FAIL: \\u001b]0;pwned\\u0007\\u001b[31mRED\\u001b[0m\\r\\nfake line\\u202e';
    const t = { id: 3, number: 2, state: 'FAIL' as const, role: 'search' as const, params: {}, schedule: { kind: 'batchnorm' as const }, value: null, failureReason: `FAIL: ${evil}`, seed: 1,
      intermediate: [], lease: null, retries: 0, claims: 1, pruneRequested: false, createdAt: '2026-12-07T00:00:00.000Z', startedAt: null, finishedAt: null, studyId: 's', metrics: { trainedBy: 'h:1:\u001b[2Jw' } };
    const one = trialText(t, 'valAccuracy');
    assert.ok(one.includes(`, FAIL: ${shown}\n`), one);
    assert.ok(one.includes('by h:1:\\u001b[2Jw\n'), one);
    assert.doesNotMatch(one, /[\u0000-\u0009\u000b-\u001f\u202e]/, 'no control character but the line ends');
    assert.equal(one.split('\n').length, 9, 'the reason added no line');
    await withSvc(async (svc) => {
      const s = await svc.createStudy(validateStudyConfig({ name: 'evil-reason', executor: 'external', totalSteps: 1000, objective: { metric: 'top1', direction: 'maximize' }, optimizer: 'random', ...VERBS_ONLY }));
      const [a] = await svc.ask(s.id, 1);
      await svc.tell(s.id, { number: a!.number }, { failed: evil });
    });
    const listed = await cli('show', 'evil-reason', '--db', db);
    assert.doesNotMatch(listed, /[\u0000-\u0009\u000b-\u001f\u202e]/);
    assert.ok(listed.includes('\\u001b]0;pwned'), listed);
    await withSvc((svc) => svc.deleteStudy('evil-reason'));
  });

  it('lists every trial of a study larger than spread arguments allow, in aligned columns', async () => {
    const local = validateStudyConfig({ name: 'many', scenario: { steps: 100 }, budget: { trials: 6 } });
    const view = await withSvc(async (svc) => svc.getStudyView((await svc.createStudy(local)).id));
    // 150,000 rows: Math.max(...widths) over them overflows the stack (the limit is near 120,000 here).
    const t0 = { id: 1, number: 0, state: 'COMPLETE' as const, role: 'search', value: 0.5, failureReason: null, schedule: { kind: 'batchnorm' as const } };
    const trials = Array.from({ length: 150_000 }, (_, i) => ({ ...t0, id: i + 1, number: i })) as unknown as typeof view.trials;
    const lines = showText({ ...view, trials, best: null }).split('\n');
    const rows = lines.filter((l) => l.startsWith('#'));
    assert.equal(rows.length, 150_000);
    assert.equal(rows[0]!.indexOf('COMPLETE'), rows[149_999]!.indexOf('COMPLETE'), 'columns padded to the widest trial number');
  });

  it('export into a missing folder says the folder is missing, and leaves nothing behind', async () => {
    await withSvc(async (svc) => {
      const s = await svc.createStudy(validateStudyConfig({ name: 'exp', executor: 'external', totalSteps: 100, optimizer: 'random' }));
      const [t] = await svc.ask(s.id, 1);
      await svc.tell(s.id, t!.id, { value: 0.5 });
    });
    const target = join(dir, 'no', 'such', 'best.json');
    await assert.rejects(cli('export', 'exp', '--db', db, '--out', target), (e: unknown) =>
      e instanceof DataError && e.message.includes(join(dir, 'no', 'such')) && /does not exist/.test(e.message) && !/tmp-/.test(e.message));
    assert.equal(existsSync(join(dir, 'no')), false);
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('tmp-')), []);
    // A folder as the target: said so, with a file name to use (it failed with a raw EISDIR about a temp file).
    await assert.rejects(cli('export', 'exp', '--db', db, '--out', dir), (e: unknown) =>
      e instanceof DataError && /it is a folder \(give a file name, e\.g\. .*best-schedule\.json\)/.test(e.message) && !/EISDIR|tmp-/.test(e.message));
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('tmp-')), []);
  });

  it('export refuses to write over a database (--out naming the --db file would have replaced every study with one JSON file)', async () => {
    await withSvc(async (svc) => {
      const s = await svc.createStudy(validateStudyConfig({ name: 'kept', executor: 'external', totalSteps: 100, optimizer: 'random' }));
      const [t] = await svc.ask(s.id, 1);
      await svc.tell(s.id, t!.id, { value: 0.5 });
    });
    for (const target of [db, `${db}-wal`].filter((f) => existsSync(f))) {
      const before = readFileSync(target);
      await assert.rejects(cli('export', 'kept', '--db', db, '--out', target), (e: unknown) =>
        e instanceof DataError && e.message.includes(target) && /SQLite/.test(e.message) && /fix: give another --out/.test(e.message));
      assert.deepEqual(readFileSync(target), before, `${target} left as it was`);
    }
    assert.equal(await withSvc(async (svc) => (await svc.resolve('kept')).name), 'kept');
    // Beside the database, a -wal or -journal that is not there yet: SQLite deletes the first on close (the export was
    // gone after an exit 0) and reads the second as the database's own.
    for (const companion of ['-wal', '-shm', '-journal']) {
      const target = `${db}${companion}`;
      const before = existsSync(target) ? readFileSync(target) : undefined;
      await assert.rejects(cli('export', 'kept', '--db', db, '--out', target), (e: unknown) =>
        e instanceof DataError && (new RegExp(`it is the ${companion.slice(1)} file of the SQLite database`).test(e.message) || /it is a SQLite database/.test(e.message)) && /fix: give another --out/.test(e.message));
      assert.deepEqual(existsSync(target) ? readFileSync(target) : undefined, before, `${target} left as it was`);
    }
    // A file this user cannot read might be a database: refused, not written over (a socket stands in for a file
    // another user owns, which root, running the tests, could read).
    const sock = join(dir, 'other-user.db');
    const server = createServer().listen(sock);
    await once(server, 'listening');
    try {
      await assert.rejects(cli('export', 'kept', '--db', db, '--out', sock), (e: unknown) => e instanceof DataError && /this user cannot read it, so it cannot be checked not to be a database; left as it was/.test(e.message));
    } finally {
      server.close();
    }
  });

  it('export --out: - is stdout, an empty name is refused, a link is written through (not replaced by a plain file)', async () => {
    const stdout = await cli('export', 'kept', '--db', db, '--out', '-');
    assert.equal(JSON.parse(stdout).format, 'renorm-tune/schedule');
    assert.equal(existsSync(join(process.cwd(), '-')), false, 'no file named -');
    await assert.rejects(cli('export', 'kept', '--db', db, '--out', ''), /--out: is empty \(fix: give a file name/);
    const real = join(dir, 'real-best.json');
    writeFileSync(real, '{}');
    const link = join(dir, 'best-link.json');
    symlinkSync(real, link);
    await cli('export', 'kept', '--db', db, '--out', link);
    assert.ok(lstatSync(link).isSymbolicLink(), 'still a link');
    assert.equal(JSON.parse(readFileSync(real, 'utf8')).format, 'renorm-tune/schedule', 'the file it links to holds the export');
  });
});
