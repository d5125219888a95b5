// The REST contract every StudyApi behind the server must satisfy: routes, status codes, error bodies, no side effects on rejection.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningServer } from '../../src/server/index.js';
import type { StudyApi } from '../../src/study/api_types.js';
import { call, snapshot, start, studyConfig } from './helpers.js';

export interface Subject {
  api: StudyApi;
}

export function restContract(name: string, make: () => Subject): void {
  describe(`REST API contract: ${name}`, () => {
    let subject: Subject;
    let srv: RunningServer;
    let base: string;
    let studyId: string;
    let running: number[];

    before(async () => {
      subject = make();
      srv = await start({ api: subject.api });
      base = srv.url;
      assert.equal((await call(base, 'POST', '/api/studies', studyConfig('taken'))).status, 201);
      const created = await call(base, 'POST', '/api/studies', studyConfig());
      assert.equal(created.status, 201, JSON.stringify(created.body));
      studyId = created.body.id;
      assert.equal(created.headers.get('location'), `/api/studies/${studyId}`);
      const asked = await call(base, 'POST', `/api/studies/${studyId}/ask`, { count: 3 });
      assert.equal(asked.status, 200, JSON.stringify(asked.body));
      // Trials are named by their number in the study (`#n`), in every route as everywhere else.
      running = asked.body.trials.map((t: { number: number }) => t.number);
    });
    after(() => srv.close());

    it('serves health, lists studies and shows one with its trials', async () => {
      const h = await call(base, 'GET', '/api/health');
      assert.equal(h.status, 200);
      assert.equal(h.body.ok, true);
      const list = await call(base, 'GET', '/api/studies');
      assert.equal(list.status, 200);
      assert.ok(list.body.studies.some((s: { id: string }) => s.id === studyId));
      const view = await call(base, 'GET', `/api/studies/${studyId}`);
      assert.equal(view.status, 200);
      assert.equal(view.body.direction, 'maximize');
      assert.deepEqual(view.body.trials.map((t: { number: number }) => t.number).filter((n: number) => running.includes(n)), running);
      for (const t of view.body.trials) for (const k of ['id', 'number', 'state', 'role', 'params', 'value', 'schedule', 'intermediate', 'lease']) assert.ok(k in t, `trial lacks ${k}`);
    });

    it('asks with a default count of 1 and returns the trial with its number, schedule, momentum, table, lease and seed', async () => {
      const r = await call(base, 'POST', `/api/studies/${studyId}/ask`, {});
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.trials.length, 1);
      const t = r.body.trials[0];
      for (const k of ['id', 'number', 'role', 'params', 'schedule', 'renormMomentum', 'totalSteps', 'table', 'lease', 'seed']) assert.ok(k in t, `asked trial lacks ${k}`);
      assert.ok(Number.isInteger(t.number) && typeof t.schedule.kind === 'string');
      assert.equal(t.totalSteps, 1000, "the study's run length by default");
      assert.ok(t.table.length >= 101 && t.table[0].step === 0 && t.table.at(-1).step === 1000, 'a table from step 0 to totalSteps');
      assert.deepEqual(Object.keys(t.table[0]).sort(), ['dmax', 'rmax', 'rmin', 'step']);
      assert.equal(typeof t.renormMomentum, 'number');
      running.push(t.number);
      const longer = await call(base, 'POST', `/api/studies/${studyId}/ask`, { totalSteps: 20_000 });
      assert.equal(longer.status, 200, JSON.stringify(longer.body));
      assert.equal(longer.body.trials[0].totalSteps, 20_000);
      assert.equal(longer.body.trials[0].table.at(-1).step, 20_000, 'the table is resolved for the run length asked for');
      running.push(longer.body.trials[0].number);
    });

    it('reports, tells, and exports the best schedule', async () => {
      const [a, b] = running;
      const rep = await call(base, 'POST', `/api/studies/${studyId}/trials/${a}/report`, { step: 100, value: 0.8, metrics: { loss: 0.5 } });
      assert.equal(rep.status, 200, JSON.stringify(rep.body));
      assert.equal(typeof rep.body.prune, 'boolean');
      // With the trial's final metrics: what it trained on, who trained it, a score of its own.
      const metrics = { testAccuracy: 0.88, backend: 'torch', device: 'GPU', trainedBy: 'gpu-3:77' };
      const told = await call(base, 'POST', `/api/studies/${studyId}/trials/${a}/tell`, { value: 0.9, metrics });
      assert.equal(told.status, 200, JSON.stringify(told.body));
      assert.equal(told.body.trial.state, 'COMPLETE');
      assert.deepEqual(told.body.trial.metrics, metrics);
      const failed = await call(base, 'POST', `/api/studies/${studyId}/trials/${b}/tell`, { failed: 'diverged' });
      assert.equal(failed.status, 200);
      assert.equal(failed.body.trial.state, 'FAIL');
      const one = await call(base, 'GET', `/api/studies/${studyId}/trials/${a}`);
      assert.equal(one.status, 200, JSON.stringify(one.body));
      assert.equal(one.body.trial.number, a);
      assert.equal(one.body.trial.state, 'COMPLETE');
      assert.equal(one.body.trial.value, 0.9);
      assert.deepEqual(one.body.trial.metrics, metrics, 'kept with the trial');
      assert.deepEqual(one.body.trial.intermediate.map((p: { step: number; value: number }) => [p.step, p.value]), [[100, 0.8]], 'with its curve');
      const listed = (await call(base, 'GET', `/api/studies/${studyId}`)).body.trials.find((t: { number: number }) => t.number === a);
      assert.deepEqual(one.body.trial, listed, 'the trial as the view lists it');
      assert.equal((await call(base, 'GET', `/api/studies/${studyId}/trials/${b}`)).body.trial.state, 'FAIL');
      const best = await call(base, 'GET', `/api/studies/${studyId}/best-schedule`);
      assert.equal(best.status, 200, JSON.stringify(best.body));
      assert.equal(best.body.format, 'renorm-tune/schedule');
      assert.equal(best.body.trialNumber, a);
      const gp = await call(base, 'GET', `/api/studies/${studyId}/gp`);
      assert.equal(gp.status, 200);
      assert.equal(typeof gp.body.available, 'boolean');
      const again = await call(base, 'POST', `/api/studies/${studyId}/trials/${a}/tell`, { value: 0.1 });
      assert.equal(again.status, 409);
      assert.equal(again.body.error.code, 'CONFLICT');
    });

    // [what, method, path (STUDY/TRIAL/DONE are substituted), body, raw content type, status, code, field]
    type Case = [string, string, string, unknown, string | null, number, string, string?];
    const cases: Case[] = [
      ['malformed JSON', 'POST', '/api/studies/STUDY/ask', '{"count": ', null, 400, 'INVALID_JSON'],
      ['JSON that is not an object', 'POST', '/api/studies/STUDY/trials/TRIAL/report', '[1, 2]', null, 400, 'INVALID_REPORT', 'body'],
      ['a text/plain body', 'POST', '/api/studies/STUDY/ask', '{"count": 1}', 'text/plain', 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['count 0', 'POST', '/api/studies/STUDY/ask', { count: 0 }, null, 400, 'INVALID_ASK', 'count'],
      ['count 65', 'POST', '/api/studies/STUDY/ask', { count: 65 }, null, 400, 'INVALID_ASK', 'count'],
      ['count "2"', 'POST', '/api/studies/STUDY/ask', { count: '2' }, null, 400, 'INVALID_ASK', 'count'],
      ['count 1.5', 'POST', '/api/studies/STUDY/ask', { count: 1.5 }, null, 400, 'INVALID_ASK', 'count'],
      ['totalSteps 0', 'POST', '/api/studies/STUDY/ask', { totalSteps: 0 }, null, 400, 'INVALID_ASK', 'totalSteps'],
      ['totalSteps 10.5', 'POST', '/api/studies/STUDY/ask', { totalSteps: 10.5 }, null, 400, 'INVALID_ASK', 'totalSteps'],
      ['unknown ask field', 'POST', '/api/studies/STUDY/ask', { cnt: 2 }, null, 400, 'INVALID_ASK', 'cnt'],
      ['askId too short', 'POST', '/api/studies/STUDY/ask', { askId: 'abc' }, null, 400, 'INVALID_ASK', 'askId'],
      ['askId a number', 'POST', '/api/studies/STUDY/ask', { askId: 12345678 }, null, 400, 'INVALID_ASK', 'askId'],
      ['askId with a slash', 'POST', '/api/studies/STUDY/ask', { askId: 'abcd/efgh' }, null, 400, 'INVALID_ASK', 'askId'],
      ['ask on an unknown study', 'POST', '/api/studies/nope/ask', { count: 1 }, null, 404, 'NOT_FOUND'],
      ['report without step', 'POST', '/api/studies/STUDY/trials/TRIAL/report', { value: 0.5 }, null, 400, 'INVALID_REPORT', 'step'],
      ['report with step -1', 'POST', '/api/studies/STUDY/trials/TRIAL/report', { step: -1, value: 0.5 }, null, 400, 'INVALID_REPORT', 'step'],
      ['report with value "0.5"', 'POST', '/api/studies/STUDY/trials/TRIAL/report', { step: 1, value: '0.5' }, null, 400, 'INVALID_REPORT', 'value'],
      ['report with an infinite value', 'POST', '/api/studies/STUDY/trials/TRIAL/report', '{"step": 1, "value": 1e999}', null, 400, 'INVALID_REPORT', 'value'],
      ['report of an accuracy above 1', 'POST', '/api/studies/STUDY/trials/TRIAL/report', { step: 1, value: 1.5 }, null, 400, 'INVALID_REPORT', 'value'],
      ['report with metrics []', 'POST', '/api/studies/STUDY/trials/TRIAL/report', { step: 1, value: 0.5, metrics: [] }, null, 400, 'INVALID_REPORT', 'metrics'],
      ['report on a finished trial', 'POST', '/api/studies/STUDY/trials/DONE/report', { step: 1, value: 0.5 }, null, 409, 'CONFLICT'],
      ['report on an unknown trial', 'POST', '/api/studies/STUDY/trials/999999/report', { step: 1, value: 0.5 }, null, 404, 'NOT_FOUND'],
      ['report on trial "abc"', 'POST', '/api/studies/STUDY/trials/abc/report', { step: 1, value: 0.5 }, null, 400, 'INVALID_URL', 'number'],
      ['report on trial "-1"', 'POST', '/api/studies/STUDY/trials/-1/report', { step: 1, value: 0.5 }, null, 400, 'INVALID_URL', 'number'],
      ['report on trial "01"', 'POST', '/api/studies/STUDY/trials/01/report', { step: 1, value: 0.5 }, null, 400, 'INVALID_URL', 'number'],
      ['tell on trial "abc"', 'POST', '/api/studies/STUDY/trials/abc/tell', { value: 0.5 }, null, 400, 'INVALID_URL', 'number'],
      ['tell on trial "1.5"', 'POST', '/api/studies/STUDY/trials/1.5/tell', { value: 0.5 }, null, 400, 'INVALID_URL', 'number'],
      ['tell on trial 99999999999999999999', 'POST', '/api/studies/STUDY/trials/99999999999999999999/tell', { value: 0.5 }, null, 404, 'NOT_FOUND'],
      ['tell with an empty body', 'POST', '/api/studies/STUDY/trials/TRIAL/tell', {}, null, 400, 'INVALID_TELL', 'body'],
      ['tell with value and failed', 'POST', '/api/studies/STUDY/trials/TRIAL/tell', { value: 1, failed: 'x' }, null, 400, 'INVALID_TELL', 'body'],
      ['tell with value null', 'POST', '/api/studies/STUDY/trials/TRIAL/tell', { value: null }, null, 400, 'INVALID_TELL', 'value'],
      ['tell of an accuracy of 1.5', 'POST', '/api/studies/STUDY/trials/TRIAL/tell', { value: 1.5 }, null, 400, 'INVALID_TELL', 'value'],
      ['tell of a negative accuracy', 'POST', '/api/studies/STUDY/trials/TRIAL/tell', { value: -0.01 }, null, 400, 'INVALID_TELL', 'value'],
      ['tell with an empty reason', 'POST', '/api/studies/STUDY/trials/TRIAL/tell', { failed: '  ' }, null, 400, 'INVALID_TELL', 'failed'],
      ['tell with metrics []', 'POST', '/api/studies/STUDY/trials/TRIAL/tell', { value: 0.5, metrics: [] }, null, 400, 'INVALID_TELL', 'metrics'],
      ['tell with metrics 32 levels deep', 'POST', '/api/studies/STUDY/trials/TRIAL/tell', { value: 0.5, metrics: JSON.parse(`${'{"a":'.repeat(40)}1${'}'.repeat(40)}`) }, null, 400, 'INVALID_TELL', 'metrics'],
      ['tell with no body', 'POST', '/api/studies/STUDY/trials/TRIAL/tell', undefined, null, 400, 'INVALID_TELL', 'body'],
      ['tell a finished trial', 'POST', '/api/studies/STUDY/trials/DONE/tell', { value: 0.5 }, null, 409, 'CONFLICT'],
      ['release without a token', 'POST', '/api/studies/STUDY/trials/TRIAL/release', {}, null, 400, 'INVALID_RELEASE', 'token'],
      ['release with token "1"', 'POST', '/api/studies/STUDY/trials/TRIAL/release', { token: '1' }, null, 400, 'INVALID_RELEASE', 'token'],
      ['release with token 0', 'POST', '/api/studies/STUDY/trials/TRIAL/release', { token: 0 }, null, 400, 'INVALID_RELEASE', 'token'],
      ['release with a reason', 'POST', '/api/studies/STUDY/trials/TRIAL/release', { token: 1, why: 'preempted' }, null, 400, 'INVALID_RELEASE', 'why'],
      ['release with no body', 'POST', '/api/studies/STUDY/trials/TRIAL/release', undefined, null, 400, 'INVALID_RELEASE', 'token'],
      ['release a finished trial', 'POST', '/api/studies/STUDY/trials/DONE/release', { token: 1 }, null, 409, 'CONFLICT'],
      ['release an unknown trial', 'POST', '/api/studies/STUDY/trials/999999/release', { token: 1 }, null, 404, 'NOT_FOUND'],
      ['release trial "abc"', 'POST', '/api/studies/STUDY/trials/abc/release', { token: 1 }, null, 400, 'INVALID_URL', 'number'],
      ['release a trial of another study', 'POST', '/api/studies/nope/trials/TRIAL/release', { token: 1 }, null, 404, 'NOT_FOUND'],
      ['heartbeat without a token', 'POST', '/api/studies/STUDY/trials/TRIAL/heartbeat', {}, null, 400, 'INVALID_HEARTBEAT', 'token'],
      ['heartbeat with token 1.5', 'POST', '/api/studies/STUDY/trials/TRIAL/heartbeat', { token: 1.5 }, null, 400, 'INVALID_HEARTBEAT', 'token'],
      ['heartbeat with a step', 'POST', '/api/studies/STUDY/trials/TRIAL/heartbeat', { token: 1, step: 5 }, null, 400, 'INVALID_HEARTBEAT', 'step'],
      ['heartbeat of a finished trial', 'POST', '/api/studies/STUDY/trials/DONE/heartbeat', { token: 1 }, null, 409, 'LEASE_LOST'],
      ['heartbeat of an unknown trial', 'POST', '/api/studies/STUDY/trials/999999/heartbeat', { token: 1 }, null, 404, 'NOT_FOUND'],
      ['extend with nothing to extend', 'POST', '/api/studies/STUDY/extend', {}, null, 400, 'INVALID_CONFIG', 'body'],
      ['extend to fewer trials', 'POST', '/api/studies/STUDY/extend', { trials: 5 }, null, 400, 'INVALID_CONFIG', 'trials'],
      ['extend with a typo', 'POST', '/api/studies/STUDY/extend', { trails: 50 }, null, 400, 'INVALID_CONFIG', 'trails'],
      ['extend an unknown study', 'POST', '/api/studies/nope/extend', { trials: 50 }, null, 404, 'NOT_FOUND'],
      ['rename to a bad name', 'POST', '/api/studies/STUDY/rename', { name: 'a b' }, null, 400, 'INVALID_CONFIG', 'name'],
      ['rename without a name', 'POST', '/api/studies/STUDY/rename', {}, null, 400, 'INVALID_CONFIG', 'name'],
      ['rename to a taken name', 'POST', '/api/studies/STUDY/rename', { name: 'taken' }, null, 409, 'CONFLICT'],
      ['stop with a field', 'POST', '/api/studies/STUDY/stop', { now: true }, null, 400, 'INVALID_CONFIG', 'now'],
      ['resume an unknown study', 'POST', '/api/studies/nope/resume', undefined, null, 404, 'NOT_FOUND'],
      ['enqueue without a schedule', 'POST', '/api/studies/STUDY/enqueue', {}, null, 400, 'INVALID_CONFIG', 'schedule'],
      ['enqueue a bad schedule', 'POST', '/api/studies/STUDY/enqueue', { schedule: { kind: 'ramp', shape: 'quadratic' } }, null, 400, 'INVALID_CONFIG', 'schedule.shape'],
      ['enqueue a formula that is not one', 'POST', '/api/studies/STUDY/enqueue', { schedule: { kind: 'formula', rmax: 'import("x")', dmax: '0' } }, null, 400, 'INVALID_CONFIG', 'schedule.rmax'],
      ['enqueue with momentum 1', 'POST', '/api/studies/STUDY/enqueue', { schedule: { kind: 'paper' }, renormMomentum: 1 }, null, 400, 'INVALID_CONFIG', 'renormMomentum'],
      ['delete an unknown study', 'DELETE', '/api/studies/nope', undefined, null, 404, 'NOT_FOUND'],
      ['delete with a field', 'DELETE', '/api/studies/STUDY', { force: true }, null, 400, 'INVALID_CONFIG', 'force'],
      ['tell a trial of another study', 'POST', '/api/studies/nope/trials/TRIAL/tell', { value: 0.5 }, null, 404, 'NOT_FOUND'],
      ['create with a bad config', 'POST', '/api/studies', { name: 'bad name!', scenario: {}, budget: { trials: 5 } }, null, 400, 'INVALID_CONFIG', 'name'],
      ['create with a duplicate name', 'POST', '/api/studies', studyConfig(), null, 409, 'CONFLICT'],
      ['create with a typo', 'POST', '/api/studies', { ...studyConfig('other'), budjet: 1 }, null, 400, 'INVALID_CONFIG', 'budjet'],
      ['a huge body', 'POST', '/api/studies', JSON.stringify({ ...studyConfig('huge'), scenario: { pad: 'x'.repeat(400_000) } }), null, 413, 'PAYLOAD_TOO_LARGE'],
      ['an unknown study', 'GET', '/api/studies/nope', undefined, null, 404, 'NOT_FOUND'],
      ['an unknown trial', 'GET', '/api/studies/STUDY/trials/999999', undefined, null, 404, 'NOT_FOUND'],
      ['trial "abc"', 'GET', '/api/studies/STUDY/trials/abc', undefined, null, 400, 'INVALID_URL', 'number'],
      ['a trial of an unknown study', 'GET', '/api/studies/nope/trials/TRIAL', undefined, null, 404, 'NOT_FOUND'],
      ['best schedule of an unknown study', 'GET', '/api/studies/nope/best-schedule', undefined, null, 404, 'NOT_FOUND'],
      ['gp of an unknown study', 'GET', '/api/studies/nope/gp', undefined, null, 404, 'NOT_FOUND'],
      ['events of an unknown study', 'GET', '/api/studies/nope/events', undefined, null, 404, 'NOT_FOUND'],
      ['an unknown API route', 'GET', '/api/nothing/here', undefined, null, 404, 'NOT_FOUND'],
      ['an unknown page', 'GET', '/nothing.html', undefined, null, 404, 'NOT_FOUND'],
    ];
    for (const [what, method, path, body, type, status, code, field] of cases) {
      it(`answers ${status} ${code} to ${what}, changing nothing`, async () => {
        const [live, done] = [running[2]!, running[0]!];
        const url = path.replace('STUDY', studyId).replace('TRIAL', String(live)).replace('DONE', String(done));
        const before = await snapshot(subject.api);
        const r = await call(base, method, url, body, {}, type ?? 'application/json');
        assert.equal(r.status, status, `${what}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body?.error?.code, code, JSON.stringify(r.body));
        assert.equal(typeof r.body.error.message, 'string');
        if (field) assert.equal(r.body.error.field, field, r.body.error.message);
        // A route that requires the token must not suggest leaving it out.
        if (field === 'token' && /release|heartbeat/.test(path)) assert.doesNotMatch(r.body.error.message, /leave it out/);
        assert.match(r.headers.get('content-type') ?? '', /application\/json/);
        assert.equal(await snapshot(subject.api), before, `${what} must not change stored state`);
      });
    }

    it('a trial number that is not one is the URL\'s fault: 400 naming the path parameter, what was given and the fix (it was 404 "trial #abc not found")', async () => {
      const r = await call(base, 'POST', `/api/studies/${studyId}/trials/abc/tell`, { value: 0.5 });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.match(r.body.error.message, /^number: the path's trial number must be an integer >= 0 .*got "abc" \(fix: use the number ask returned, e\.g\. POST \/api\/studies\/<id>\/trials\/7\/tell\)$/);
    });

    it('answers 405 METHOD_NOT_ALLOWED to a known path asked with another method, listing its methods in Allow and the message (it was 404), changing nothing', async () => {
      const before = await snapshot(subject.api);
      const study = `/api/studies/${studyId}`;
      for (const [method, path, allow, named, type] of [
        ['PUT', study, 'GET, HEAD, DELETE', 'one of GET, DELETE', 'application/json'],
        ['GET', `${study}/ask`, 'POST', 'POST', null],
        ['DELETE', '/api/health', 'GET, HEAD', 'GET', null],
        ['PATCH', `${study}/trials/${running[2]}/tell/`, 'POST', 'POST', 'text/plain'],
        ['POST', '/api/studies/x/events', 'GET, HEAD', 'GET', 'application/json'],
        ['DELETE', '/api/studies', 'POST, GET, HEAD', 'one of POST, GET', null],
        ['POST', `${study}/trials/0`, 'GET, HEAD', 'GET', 'application/json'],
      ] as const) {
        const r = await call(base, method, path, undefined, {}, type);
        assert.equal(r.status, 405, `${method} ${path}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.error.code, 'METHOD_NOT_ALLOWED');
        assert.equal(r.headers.get('allow'), allow, `${method} ${path}`);
        assert.equal(r.body.error.message, `${path} takes ${allow.replace(', HEAD', '')} only, not ${method} (fix: send ${named} ${path})`);
      }
      for (const [method, path] of [['PUT', '/api/nothing/here'], ['GET', `${study}/trials`], ['GET', `${study}/trials/0/curve`]] as const) {
        assert.equal((await call(base, method, path)).status, 404, `${method} ${path}: an unknown path stays 404`);
      }
      assert.equal((await call(base, 'HEAD', '/api/health')).status, 200, 'HEAD comes with GET');
      assert.equal(await snapshot(subject.api), before);
    });

    it('answers 415 to a bodiless POST or DELETE that does not declare JSON (a cross-site form could send it), changing nothing', async () => {
      const before = await snapshot(subject.api);
      const posts = ['ask', `trials/${running[2]}/tell`, 'stop', 'resume', 'extend', 'rename', 'enqueue'].map((p) => `/api/studies/${studyId}/${p}`);
      for (const [method, path] of [...posts.map((p) => ['POST', p]), ['POST', '/api/studies'], ['DELETE', `/api/studies/${studyId}`]] as const) {
        const r = await call(base, method, path, undefined, {}, null);
        assert.equal(r.status, 415, `${method} ${path}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.error.code, 'UNSUPPORTED_MEDIA_TYPE');
      }
      assert.equal(await snapshot(subject.api), before);
    });

    it('every route takes a study by its name as well as by its id', async () => {
      const name = 'by-name';
      assert.equal((await call(base, 'POST', '/api/studies', studyConfig(name))).status, 201);
      const ok = async (method: string, path: string, body?: unknown, status = 200) => {
        const r = await call(base, method, `/api/studies/${name}${path}`, body);
        assert.equal(r.status, status, `${method} /api/studies/${name}${path}: ${JSON.stringify(r.body).slice(0, 300)}`);
        return r.body;
      };
      assert.equal((await ok('GET', '')).name, name);
      const [a, b] = (await ok('POST', '/ask', { count: 2 })).trials.map((t: { number: number }) => t.number);
      assert.equal(typeof (await ok('POST', `/trials/${a}/report`, { step: 1, value: 0.4 })).prune, 'boolean');
      assert.equal((await ok('POST', `/trials/${a}/tell`, { value: 0.6 })).trial.state, 'COMPLETE');
      assert.equal((await ok('GET', `/trials/${a}`)).trial.value, 0.6);
      assert.equal((await ok('GET', '/best-schedule')).trialNumber, a);
      assert.equal(typeof (await ok('GET', '/gp')).available, 'boolean');
      assert.equal((await ok('POST', '/enqueue', { schedule: { kind: 'paper' } }, 201)).trial.role, 'enqueued');
      assert.equal((await ok('POST', '/extend', { trials: 20 })).study.budgetTrials, 20);
      assert.equal((await ok('POST', '/stop', {})).study.state, 'STOPPED');
      assert.equal((await call(base, 'POST', `/api/studies/${name}/ask`, {})).body.error.code, 'STUDY_STOPPED');
      assert.equal((await ok('POST', `/trials/${b}/tell`, { failed: 'stopped early' })).trial.state, 'FAIL', 'a stopped study still takes the results of trials already out');
      assert.equal((await ok('POST', '/resume', {})).study.state, 'RUNNING');
      const ac = new AbortController();
      const events = await fetch(`${base}/api/studies/${name}/events`, { signal: ac.signal });
      assert.equal(events.status, 200);
      ac.abort();
      assert.equal((await ok('POST', '/rename', { name: 'by-name-2' })).study.name, 'by-name-2');
      assert.equal((await call(base, 'GET', `/api/studies/${name}`)).status, 404, 'the old name is gone');
      const deleted = (await call(base, 'DELETE', '/api/studies/by-name-2', undefined)).body.deleted;
      assert.equal(deleted.name, 'by-name-2');
      assert.equal(deleted.trials, 3);
      assert.equal((await call(base, 'GET', '/api/studies/by-name-2')).status, 404);
    });

    it('of 8 concurrent tells to one trial, exactly one succeeds and the rest get 409', async () => {
      const asked = await call(base, 'POST', `/api/studies/${studyId}/ask`, { count: 1 });
      const n = asked.body.trials[0].number;
      const replies = await Promise.all(Array.from({ length: 8 }, (_, i) => call(base, 'POST', `/api/studies/${studyId}/trials/${n}/tell`, { value: i / 10 })));
      const statuses = replies.map((r) => r.status).sort();
      assert.deepEqual(statuses, [200, 409, 409, 409, 409, 409, 409, 409], JSON.stringify(replies.map((r) => r.body)));
      const winner = replies.find((r) => r.status === 200)!;
      const view = await call(base, 'GET', `/api/studies/${studyId}`);
      assert.equal(view.body.trials.find((t: { number: number }) => t.number === n).value, winner.body.trial.value);
    });

    it('streams a trial event over SSE and unsubscribes when the client leaves', async () => {
      const asked = await call(base, 'POST', `/api/studies/${studyId}/ask`, { count: 1 });
      const { id, number } = asked.body.trials[0];
      const ac = new AbortController();
      const res = await fetch(`${base}/api/studies/${studyId}/events`, { signal: ac.signal });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let text = '';
      const seen = (async () => {
        while (!/event: trial\ndata: .*"state":"COMPLETE"/.test(text)) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`stream ended early: ${text}`);
          text += decoder.decode(value, { stream: true });
        }
      })();
      await new Promise((r) => setTimeout(r, 50));
      await call(base, 'POST', `/api/studies/${studyId}/trials/${number}/tell`, { value: 0.5 });
      await seen;
      const frame = /event: trial\ndata: (.*)\n\n/.exec(text.slice(text.lastIndexOf('event: trial')))!;
      const event = JSON.parse(frame[1]!);
      assert.equal(event.type, 'trial');
      assert.equal(event.studyId, studyId);
      assert.equal(event.trial.id, id);
      ac.abort();
    });
  });
}
