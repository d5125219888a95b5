// The Python client (src/clients/python/renorm_tune.py) against a live `renorm-tune serve`: ask/report/tell, its errors, and schedule_at agreeing with scheduleAt.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { scheduleAt, type Clipping, type ScheduleSpec } from '../../src/schedule/index.js';
import { FIXTURES, liveServer, pythonMissing, runPython } from './helpers.js';


const STEPS = [0, 1, 17, 99.5, 250, 777, 1234.5, 2500, 3333, 4999, 5000, 6000];
const STRETCHED = [undefined, 5000, 12345, 200];

function close(got: Clipping, want: Clipping, tol: number, what: string): void {
  for (const k of ['rmax', 'rmin', 'dmax'] as const) assert.ok(Math.abs(got[k] - want[k]) <= tol, `${what}: ${k} python ${got[k]} vs scheduleAt ${want[k]}`);
}

describe('Python client against a live server', { skip: pythonMissing }, () => {
  let server: Awaited<ReturnType<typeof liveServer>>;
  let seen: Record<string, any>;

  before(async () => {
    server = await liveServer();
    seen = runPython(`exec(open(${JSON.stringify(join(FIXTURES, 'client_driver.py'))}).read())`, server.url) as Record<string, any>;
  });
  after(() => server?.stop());

  it('creates (or loads) a study, asks trials that carry number, table, momentum and lease, and reports and tells them', () => {
    assert.equal(seen.sameStudy, true, 'exist_ok loads the study of that name');
    assert.deepEqual(seen.silentWhenSame, [], 'settings the study already has (defaults left out) are no edit');
    assert.equal(seen.editsNamed.length, 1);
    assert.match(seen.editsNamed[0], /^study 'py-client' exists: loaded with its stored settings; ignored: objective\.direction \(stored "maximize", given "minimize"\); budget\.trials \(stored 5, given 9\) \(use another name/);
    assert.equal(seen.loadedByName, true);
    assert.equal(seen.trials.length, 3);
    for (const [i, [number, totalSteps, momentum, token, role]] of (seen.attributes as [number, number, number, number, string][]).entries()) {
      assert.equal(number, seen.trials[i].number);
      assert.equal(totalSteps, 5000);
      assert.equal(momentum, seen.trials[i].params.renormMomentum);
      assert.equal(token, seen.trials[i].lease.token);
      assert.equal(role, 'search');
    }
    assert.equal(seen.prune, false);
    assert.equal(seen.scalarReport, false, 'numpy/torch scalars (.item()) in step, value and metrics are sent as numbers');
    assert.deepEqual(seen.reportsOfA, [{ step: 100, value: 0.5, metrics: { loss: 1.2 } }, { step: 150, value: 0.5, metrics: { loss: 1.1, lrs: [0.001] } }], 'the NaN metric was never sent; a repeated step kept its first value');
    assert.equal(seen.trialByNumber, true, 'study.trial(n) is the trial as the view lists it');
    const [renamed, deleted, gone, names] = seen.renameDelete as [unknown[], unknown[], unknown[], string[]];
    assert.deepEqual(renamed, ['py-client-renamed', 'py-client-renamed', true, ['CONFLICT', 409, 'py-client-renamed']], 'renamed, the handle too; a taken name refused');
    assert.deepEqual(deleted, ['py-client-renamed', 2], 'with its two queued baselines');
    assert.deepEqual(gone, ['NOT_FOUND', 404]);
    assert.ok(!names.includes('py-client-renamed') && names.includes('py-client'), names.join(', '));
    assert.deepEqual(seen.retryWarnings, [], 'resending the same report is a retry, said nothing of');
    assert.equal(seen.repeatWarnings.length, 1);
    assert.match(seen.repeatWarnings[0], /^trial #\d+ already has 0\.5 at step 100: this report's 0\.25 is ignored \(fix: report each step once/);
    assert.deepEqual([seen.told, seen.failed, seen.tellByNumber], ['COMPLETE', 'FAIL', 'COMPLETE']);
    assert.deepEqual(seen.tellMetrics, [true, true], 'a tell names this process (host:pid) as trainedBy, beside the metrics given');
    assert.deepEqual(seen.errors.metricsNotDict, ['ValueError', "metrics must be a dict of the trial's final metrics"]);
    assert.deepEqual(seen.olderServer, [null, null], 'a server that refuses a tell\'s metrics takes the tell without them');
    assert.deepEqual(seen.olderServerSent, [['metrics', 'token', 'value'], ['token', 'value'], ['token', 'value'], ['metrics', 'token', 'value']],
      'once refused, tells go without metrics; given metrics are sent, and their refusal raised');
    assert.deepEqual(seen.errors.olderServerMetrics, ['INVALID_TELL', 'metrics']);
    assert.deepEqual(seen.enqueuedFirst, [true, 'enqueued', 0.95]);
    assert.equal(seen.grantedAtTheEnd, 2, 'the enqueued trial and one suggestion fill budget_trials = 5');
    assert.equal(seen.extended, 6);
    assert.deepEqual(seen.importance, [false, 'too-few-trials', true], 'importance through the client: 5 trials are fewer than the GP\'s design');
    assert.deepEqual(seen.view.counts, { WAITING: 0, RUNNING: 0, COMPLETE: 4, PRUNED: 0, FAIL: 1 });
    assert.equal(seen.view.best.value, 0.75);
  });

  it('turns error answers into distinct exceptions: LeaseLost, BudgetExhausted, StudyStopped, TrialNotRunning, NotFound, and the request\'s code and field', () => {
    const e = seen.errors as Record<string, unknown[]>;
    assert.deepEqual(e.outOfBounds, ['RenormTuneError', 'INVALID_REPORT', 400, 'value']);
    assert.deepEqual(e.leaseLost, ['LeaseLost', 'LEASE_LOST', 409]);
    assert.deepEqual(e.toldTwice, ['RenormTuneError', 'CONFLICT', 409]);
    assert.deepEqual(e.stopped, ['StudyStopped', 'STUDY_STOPPED', 409]);
    assert.deepEqual(e.notRunning, ['TrialNotRunning', 'TRIAL_NOT_RUNNING', 409], 'a tell for a queued trial nobody was handed is refused, by its own class');
    assert.deepEqual(e.budget, ['BudgetExhausted', 'BUDGET_EXHAUSTED', 409]);
    assert.deepEqual(e.notFound, ['NotFound', 'NOT_FOUND', 404]);
    assert.deepEqual(e.unreachable, ['RenormTuneError', 'UNREACHABLE']);
    assert.deepEqual(e.noScheme, ['ValueError', true], 'a URL without http:// is named with the fix, not "cannot reach ... start it with serve"');
    assert.deepEqual(e.timeout, ['RenormTuneError', 'TIMEOUT', true], 'a server that never answers is a RenormTuneError naming the timeout, not a bare socket error');
    assert.deepEqual(e.timeoutRetried, ['TIMEOUT', true, true], 'a read that timed out is sent again for retry_seconds, then the timeout is said');
    assert.deepEqual(e.askTimeout, ['TIMEOUT', true, true, true], 'an ask waits timeout + ask_seconds per trial asked for (a 64-trial ask can take 45 s), and its timeout names ask_seconds');
    assert.deepEqual(e.neverReached, ['UNREACHABLE', true], 'a server this client never reached is said at once, not retried');
    assert.deepEqual(seen.afterRestart, [[{ name: 'back' }], 2, true], 'a server that answered once and then refused (restarting) is waited for');
    assert.deepEqual(seen.afterHostAway, [[{ name: 'back' }], 1, true], 'a server that answered once and then could not be connected to (its host away: the connect times out) is waited for');
    assert.deepEqual(e.disconnected, ['RenormTuneError', 'DISCONNECTED', true, true], 'a server that hangs up mid-call is a RenormTuneError, not http.client.RemoteDisconnected; a create_study cut so names exist_ok=True, safe to send again');
    assert.deepEqual(e.notJson, ['RenormTuneError', 'NOT_JSON', true], 'another service answering 200 with a page is a RenormTuneError, not a JSONDecodeError');
    assert.deepEqual(seen.retried, [[{ name: 'back' }], 3], '503 STORAGE_UNAVAILABLE twice, then the answer: the call waited it out');
    assert.deepEqual(e.unavailable, ['RenormTuneError', 'STORAGE_UNAVAILABLE', 503, 1], 'retry_seconds=0: no retry');
    assert.deepEqual(e.nanTell, ['ValueError', true], 'a NaN is refused before it is sent, pointing at failed=');
    assert.deepEqual(e.nanMetric, ['ValueError', 'metrics.loss'], 'a NaN metric is refused before it is sent (not as invalid JSON), naming it');
    assert.deepEqual(e.crossStudy, ['ValueError', true], 'a trial told through another study\'s handle is refused');
    assert.deepEqual(e.absoluteFormula, ['ValueError', true], 'a formula over absolute steps is not stretched to another run length');
    assert.equal(seen.formulaOwnLength, 2, 'at its own run length it is the table');
    assert.equal(seen.relativeStretched, 2, 'a formula over t stretches like a ramp');
  });

  it('schedule_at agrees with scheduleAt for asked trials (stretched to other run lengths too) and for the export', () => {
    (seen.trials as { schedule: ScheduleSpec; totalSteps: number }[]).forEach((t, i) => {
      STRETCHED.forEach((total, j) => {
        STEPS.forEach((step, k) => {
          const want = scheduleAt(t, step, total);
          close(seen.scheduleAt[i][j][k], want, 1e-3, `trial ${i} (${t.schedule.kind}) at ${step} of ${total ?? 'its own'}`);
        });
      });
    });
    assert.equal(seen.clippingMethod, true);
    const exp = seen.export;
    assert.equal(exp.totalSteps, 5000, "the external study's totalSteps is the export's run length");
    assert.deepEqual(exp.provenance.scenario, {}, 'no training scenario is invented for an external study');
    STRETCHED.forEach((total, j) => STEPS.forEach((step, k) => close(seen.exportAt[j][k], scheduleAt(exp, step, total), 1e-3, `export at ${step} of ${total}`)));
  });
});

describe('Keras callback wiring (TensorFlow is not installed here: a stand-in tensorflow module)', { skip: pythonMissing }, () => {
  it('moves the renorm_clipping variables along schedule_at before every batch', () => {
    const got = runPython(`exec(open(${JSON.stringify(join(FIXTURES, 'keras_stub_driver.py'))}).read())`, 'http://127.0.0.1:9') as { assigned: Record<string, number>[]; expected: Record<string, number>[]; initial: Record<string, number> };
    assert.deepEqual(got.initial, { rmax: 1, rmin: 1, dmax: 0 });
    assert.equal(got.assigned.length, got.expected.length);
    got.assigned.forEach((a, i) => close(a as unknown as Clipping, got.expected[i] as unknown as Clipping, 1e-12, `batch ${i}`));
    assert.ok(got.assigned.some((a) => a.rmax! > 1), 'the schedule moved');
  });
});

describe('a fit shorter than its trial asks for (a final run at 2x the study\'s length)', { skip: pythonMissing }, () => {
  it('trial.steps_multiplier says it, and the Lightning and Keras callbacks\' length check warns of a fit that misses it', () => {
    // The README's Lightning and Keras objectives trained "@x2" final runs at 1x, and nothing said so.
    const got = runPython(`
import json, warnings, renorm_tune
from renorm_tune import Trial
final = Trial({"number": 7, "role": "final:best@x2", "totalSteps": 32, "stepsMultiplier": 2, "schedule": {"kind": "paper"}})
plain = Trial({"number": 3, "role": "search", "totalSteps": 16, "schedule": {"kind": "paper"}})
out = {"multipliers": [final.steps_multiplier, plain.steps_multiplier]}
for name, trial, steps in (("short", final, 16), ("right", final, 32), ("plain", plain, 16), ("export", {"totalSteps": 32}, 16)):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        renorm_tune._warn_length("lightning_callback", trial, steps, "max_epochs")
    out[name] = [str(x.message) for x in w]
print(json.dumps(out))`, 'http://127.0.0.1:9') as Record<string, unknown>;
    assert.deepEqual(got.multipliers, [2, 1]);
    assert.deepEqual(got.short, ['lightning_callback: this fit trains 16 steps, but trial #7 (final:best@x2) asks for 32 (stepsMultiplier 2): scale max_epochs by trial.steps_multiplier (and give trial.total_steps as the run length)']);
    assert.deepEqual([got.right, got.plain, got.export], [[], [], []], 'the right length, and an export stretched to any run, are fine');
  });
});

describe('ask under contention (a stand-in server in the Python process)', { skip: pythonMissing }, () => {
  // 409 STALE_SNAPSHOT comes only from several servers racing on one database; a stand-in answers it on cue.
  const driver = (refusals: number) => `
import json, threading, http.server
from renorm_tune import Client, RenormTuneError
import renorm_tune
renorm_tune.time.sleep = lambda s: None  # no real pauses in the test
state = {"asks": 0}
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        state["asks"] += 1
        if state["asks"] <= ${refusals}:
            code, body = 409, {"error": {"code": "STALE_SNAPSHOT", "message": "other asks kept inserting"}}
        else:
            code, body = 200, {"trials": [{"number": 7, "schedule": {"kind": "batchnorm"}}]}
        data = json.dumps(body).encode()
        self.send_response(code); self.send_header("Content-Type", "application/json"); self.send_header("Content-Length", str(len(data))); self.end_headers()
        self.wfile.write(data)
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
threading.Thread(target=srv.serve_forever, daemon=True).start()
study = renorm_tune.Study(Client("http://127.0.0.1:%d" % srv.server_address[1]), "s1", "s")
try:
    out = {"numbers": [t.number for t in study.ask()]}
except RenormTuneError as err:
    out = {"error": err.code}
out["asks"] = state["asks"]
srv.shutdown()
print(json.dumps(out))
`;

  it('asks again after 409 STALE_SNAPSHOT (nothing was handed out), and gives up after 5 retries with the error', () => {
    assert.deepEqual(runPython(driver(2), 'http://127.0.0.1:9'), { numbers: [7], asks: 3 });
    assert.deepEqual(runPython(driver(99), 'http://127.0.0.1:9'), { error: 'STALE_SNAPSHOT', asks: 6 });
  });
});

describe('study.optimize (Optuna\'s loop) against a live server', { skip: pythonMissing }, () => {
  let server: Awaited<ReturnType<typeof liveServer>>;
  let seen: Record<string, any>;

  before(async () => {
    server = await liveServer();
    seen = runPython(`exec(open(${JSON.stringify(join(FIXTURES, 'optimize_driver.py'))}).read())`, server.url) as Record<string, any>;
  });
  after(() => server?.stop());

  it('asks, calls the objective and tells its value until the budget is spent, or for n_trials, or until the timeout', () => {
    assert.deepEqual(seen.budget, [[0, 1, 2, 3], ['COMPLETE', 'COMPLETE', 'COMPLETE', 'COMPLETE'], [0.1, 0.2, 0.1 + 0.2, 0.4],
      [[0, 'COMPLETE', null], [1, 'COMPLETE', null], [2, 'COMPLETE', null], [3, 'COMPLETE', null]]]);
    assert.deepEqual(seen.nTrials, [2, 2, [0, 1, 2, 3], { WAITING: 0, RUNNING: 0, COMPLETE: 4, PRUNED: 0, FAIL: 0 }], 'a second call goes on where the first stopped');
    assert.deepEqual(seen.timeout, [1, 0], 'a trial of 0.6 s under a 0.5 s timeout is finished, and no second one asked; timeout=0 asks none');
    assert.deepEqual(seen.stopped, [], 'a stopped study ends the loop at once');
    assert.match(seen.badNTrials, /^n_trials must be a positive whole number or None .*got 0$/);
    assert.deepEqual(seen.badSeconds, [
      'timeout must be a number of seconds (0 or more), or None, got -1',
      'wait_seconds must be a number of seconds (0 or more), got None',
      'heartbeat_seconds must be a number of seconds (0 or more), or None, got nan',
      'peer_grace_seconds must be a number of seconds (more than 0), got 0',
      "peer_grace_seconds must be a number of seconds (more than 0), got '60'",
      'timeout must be a number of seconds (0 or more), or None, got True',
    ], 'each duration is checked before anything is asked, naming the argument');
    assert.equal(seen.torchImported, false, 'optimize alone never imports PyTorch');
    assert.deepEqual(seen.callbacks, [[[true, 0, 'COMPLETE'], [true, 1, 'FAIL'], [true, 2, 'COMPLETE']], 3, 3, 'STOPPED'],
      'each told trial reaches the callbacks, the third stops the study and so the loop; a collection after each objective');
    assert.deepEqual(seen.callbacksRaise, [], 'no callback for the trial whose exception ends the loop');
    assert.equal(seen.badCallback, "callbacks must be a list of functions callback(study, trial), got 'print' in it");
  });

  it('tells failures as failed with the reason, raises what is not caught, hands an interrupted trial back, and skips a lost lease', () => {
    const [states, reasons, last, warned] = seen.badReturns as [string[], (string | null)[], unknown[], string[]];
    assert.deepEqual(states, ['FAIL', 'FAIL', 'FAIL', 'FAIL', 'FAIL', 'FAIL', 'COMPLETE']);
    assert.deepEqual(reasons.slice(0, 5), [
      'the objective returned nan, not a finite number', 'the objective returned None, not a finite number',
      'the objective returned [0.7], not a finite number', 'the objective returned True, not a finite number',
      "the objective returned '0.5', not a finite number"]);
    assert.match(reasons[5]!, /^the objective returned 92\.5: value: 92\.5 is outside the bounds of top1, \[0, 1\] \(fix: send top1 as a fraction, not a percentage\)$/);
    assert.equal(reasons[6], null);
    assert.deepEqual((last as [number, string][]).map((t) => t[1]), ['FAIL', 'COMPLETE'], 'the refused trial is not left RUNNING');
    assert.deepEqual(warned.filter((w) => /92\.5/.test(w)).length, 1, 'a warning says the value was refused');
    assert.deepEqual(seen.refusedArgs, [
      'ValueError: timeout must be a number of seconds (more than 0), got 0',
      "ValueError: timeout must be a number of seconds (more than 0), got '5'",
      'ValueError: retry_seconds must be a number of seconds (0 or more), got None',
      'ValueError: token must be a string (the server\'s --token or --read-token), got a int',
      "ValueError: create_study takes no 'objective' (got {'metric': 'top1', 'direction': 'minimize'}): give metric=, direction= and bounds=",
      "ValueError: create_study takes no 'executor' (got 'local'): give nothing: a study made here is always external",
      'TypeError: objective must be a function objective(trial) returning the trial\'s value, got None',
      'TypeError: cannot tell True: give the metric as a number (a bool or a string is not one)',
      'ValueError: schedule_at and apply_clipping take an asked trial or a whole export (with its "table" and "totalSteps"), got [\'kind\']: pass study.best_schedule() or the trial itself, not its "schedule"',
    ]);
    assert.deepEqual(seen.afterRefusals, { WAITING: 0, RUNNING: 0, COMPLETE: 1, PRUNED: 0, FAIL: 6 }, 'nothing asked or told by a refused call');
    assert.equal(seen.tokenStripped, 'secret', 'a token read from a file loses its newline (a header cannot carry it)');
    assert.deepEqual(seen.caught, [['FAIL', 'COMPLETE', 'COMPLETE'], 'RuntimeError: CUDA out of memory', 3]);
    assert.deepEqual(seen.raised, ['ZeroDivisionError', [[0, 'FAIL', 'ZeroDivisionError: division by zero']]], 'told failed, then raised; nothing more asked');
    assert.deepEqual(seen.interrupted, [[[0, 'WAITING', null]], [0]], 'nothing told; handed back, so the next ask gets it at once');
    // SIGTERM too (it ended the process at once, and the trial waited out its hour-long lease), unless the program
    // handles SIGTERM itself.
    assert.deepEqual(seen.sigterm, [143, [[0, 'WAITING', null]], [0], true], 'handed back on SIGTERM; its default action restored');
    assert.deepEqual(seen.sigtermOwn, [1, [15]], 'a handler of the program\'s own runs, and the trial is told');
    const [awayStates, awayErr] = seen.interruptedAway as [unknown, string];
    assert.deepEqual(awayStates, [[0, 'RUNNING', null]], 'not handed back: it keeps its lease until that expires');
    assert.match(awayErr, /^renorm-tune: trial #0 was not handed back \(cannot reach renorm-tune at http:\/\/127\.0\.0\.1:9 .*\); it returns to the queue when its lease expires\n$/);
    assert.doesNotMatch(awayErr, /retrying/, 'one try, not the retries for a restarting server');
    assert.deepEqual(seen.release, ['WAITING', null, [['LeaseLost', 'trial #0: lease lost (it is WAITING); stop working on it, it'],
      ['ValueError', 'release needs the trial as ask returned it (with its lease t']]]);
    assert.equal(seen.leaseLost[0], 0);
    assert.equal(seen.leaseLost[1].length, 1);
    assert.match(seen.leaseLost[1][0], /^trial #0: lease lost .*\(optimize goes on with the next trial\)$/);
    assert.deepEqual(seen.lostRaise, ['bad batch', 1, [[0, 'RUNNING', null]]], 'the objective\'s exception is raised even when its failed-tell finds the lease lost');
  });

  it('renews the lease: study.heartbeat by hand, and a background thread while the objective runs without reporting', () => {
    assert.deepEqual(seen.heartbeat, [true, true, 30], 'the renewed lease says its length');
    assert.deepEqual(seen.heartbeatThread, [0.6], 'the lease expiry moved while the objective sat silent');
    assert.equal(seen.heartbeatFinished, 'LEASE_LOST', 'a finished trial has no lease to renew');
  });

  it('paces the heartbeat by the lease\'s length, not by its expiry on a client clock an hour behind the server\'s', () => {
    // [interval, the asked lease's seconds, the interval an older server's answer (expiresAt alone) would give]
    assert.deepEqual(seen.heartbeatPace, [10, 30, 600]);
  });

  it('stops the heartbeat at the first 404 (the study was deleted), as at a lost lease, and says so on the trial (trial.should_stop)', () => {
    assert.equal(seen.heartbeatDeleted, 1);
    assert.deepEqual(seen.shouldStop, [false, true, "study 'gone' not found"]);
    assert.deepEqual(seen.silentSaw, [true, true, true], 'an objective that never reports saw its study deleted within seconds');
    assert.equal(seen.silentStopped, 'NOT_FOUND', 'and its tell says the study is gone');
  });

  it('says each trial\'s end and why the loop ended, on stderr as Optuna does where nothing configured logging; through the configured handlers otherwise, and not at all once silenced', () => {
    // How long each took (with its tell) is the machine's: "in 0.0 s" stands for any time under a minute.
    const lines = (mode: string) => (runPython(`MODE = ${JSON.stringify(mode)}\nexec(open(${JSON.stringify(join(FIXTURES, 'optimize_log_driver.py'))}).read())`, server.url) as { lines: string[] })
      .lines.map((l) => l.replace(/ in \d+\.\d s$/, ' in 0.0 s'));
    const said = [
      'trial #0 (search) COMPLETE: 0.5 in 0.0 s', 'trial #1 (search) FAIL (the objective returned None, not a finite number) in 0.0 s',
      'trial #2 (search) COMPLETE: 0.25 in 0.0 s', "optimize ends: the study's budget is spent; 3 trials told in this call",
      'trial #3 (search) COMPLETE: 0.75 in 0.0 s', 'optimize ends: n_trials=1 have run; 1 trial told in this call',
    ];
    const stamped = lines('default');
    for (const line of stamped) assert.match(line, /^\[renorm-tune \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] /);
    assert.deepEqual(stamped.map((l) => l.replace(/^\[[^\]]*\] /, '')), said);
    assert.deepEqual(lines('basic'), said.map((l) => `renorm_tune|${l}`), 'once, through the root handler alone');
    assert.deepEqual(lines('silent'), []);
  });

  it('passes the pruner\'s answer through study.report: the value returned then is recorded PRUNED', () => {
    assert.deepEqual(seen.pruned, ['COMPLETE', 'PRUNED', 'PRUNED']);
  });
});
