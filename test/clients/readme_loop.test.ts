// The README's whole PyTorch loop, and the same as an objective for study.optimize, run as printed against a live `renorm-tune serve` (a tiny CNN on synthetic data stands in for "yours").
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { README_PRELUDE as PRELUDE, liveServer, readmeSnippet, runPython, torchMissing } from './helpers.js';

const noTorch = torchMissing('the README loop needs it');

/** After the loop: what it left behind, as JSON. */
const POSTLUDE = `
import json
from renorm_tune import renorm_modules, schedule_at
view = study.view()
mods = renorm_modules(model)
want = schedule_at(trial, TOTAL_STEPS - 1, TOTAL_STEPS)
print(json.dumps({"counts": view["counts"], "trials": [[t["number"], t["state"], len(t["intermediate"]), t["value"], t["role"]] for t in view["trials"]],
                  "verdict": study.best_schedule()["verdict"], "studyState": view["state"],
                  "modules": len(mods), "last": [[m.rmax, m.rmin, m.dmax] for m in mods], "want": want, "momentum": [m.renorm_momentum for m in mods],
                  "trialMomentum": trial.renorm_momentum}))
`;

describe('the README PyTorch loop', { skip: noTorch }, () => {
  let server: Awaited<ReturnType<typeof liveServer>>;
  before(async () => {
    server = await liveServer();
  });
  after(() => server?.stop());

  it('asks, trains with the trial\'s clipping on every BatchRenorm2d, reports and tells until the budget is spent', () => {
    const got = runPython(`${PRELUDE}\n${readmeSnippet('**The whole loop in PyTorch**')}\n${POSTLUDE}`, server.url, 300_000) as {
      counts: Record<string, number>; trials: [number, string, number, number | null, string][]; modules: number; last: number[][]; want: Record<string, number>;
      momentum: number[]; trialMomentum: number; verdict: string; studyState: string;
    };
    const searched = got.trials.filter((t) => t[4] === 'search' || t[4].startsWith('baseline:'));
    assert.equal(searched.length, 4, 'budget_trials = 4, the two baselines first');
    assert.deepEqual(searched.slice(0, 2).map((t) => t[4]), ['baseline:batchnorm', 'baseline:paper']);
    assert.equal(got.counts.COMPLETE + got.counts.PRUNED, 4, JSON.stringify(got.trials));
    const finals = got.trials.filter((t) => t[4].startsWith('final:'));
    assert.ok(got.trials.some((t) => t[4].startsWith('race:')), 'the race ran');
    assert.ok(finals.length >= 4 && finals.every((t) => t[1] === 'COMPLETE'), `paired final runs told: ${JSON.stringify(finals)}`);
    assert.equal(got.studyState, 'COMPLETE', 'the last evidence tell completes the study');
    assert.ok(got.verdict.length > 0, 'the export states a verdict');
    for (const [n, state, reports, value] of got.trials) {
      assert.ok(reports >= 1 && reports <= 3, `#${n} reported every 200 steps (${reports})`);
      assert.ok(typeof value === 'number' && value >= 0 && value <= 1, `#${n} told an accuracy (${value}, ${state})`);
    }
    assert.equal(got.modules, 2, 'both BatchRenorm2d layers of the model');
    // The layers hold their limits in float32 (the model's dtype), as Keras' clipping variables do.
    const f32 = (v: Record<string, number>) => Object.fromEntries(Object.entries(v).map(([k, x]) => [k, Math.fround(x)]));
    for (const [rmax, rmin, dmax] of got.last) assert.deepEqual({ rmax, rmin, dmax }, f32(got.want), 'the clipping of the last step applied');
    assert.ok(got.momentum.every((m) => m === got.trialMomentum), "the layers use the trial's renorm momentum");
  });
});

describe('the README objective for study.optimize', { skip: noTorch }, () => {
  let server: Awaited<ReturnType<typeof liveServer>>;
  before(async () => {
    server = await liveServer();
  });
  after(() => server?.stop());

  it('runs the baselines, the search and the evidence runs to a complete study, each told the value the objective returned', () => {
    const got = runPython(`${PRELUDE}\n${readmeSnippet('**Or let the client run that loop**')}
import json
view = study.view()
print(json.dumps({"counts": view["counts"], "state": view["state"], "verdict": study.best_schedule()["verdict"],
                  "trials": [[t["role"], t["state"], len(t["intermediate"]), t["value"]] for t in view["trials"]]}))
`, server.url, 300_000) as { counts: Record<string, number>; state: string; verdict: string; trials: [string, string, number, number | null][] };
    const roles = got.trials.map((t) => t[0]);
    assert.deepEqual(roles.slice(0, 4), ['baseline:batchnorm', 'baseline:paper', 'search', 'search'], 'budget_trials = 4, the two baselines first');
    assert.ok(roles.some((r) => r.startsWith('race:')), 'the race ran');
    assert.ok(roles.filter((r) => r.startsWith('final:')).length >= 4, 'paired final runs');
    assert.equal(got.counts.FAIL, 0, JSON.stringify(got.trials));
    assert.equal(got.state, 'COMPLETE', 'optimize ran until the last evidence tell completed the study');
    assert.ok(got.verdict.length > 0);
    for (const [role, state, reports, value] of got.trials) {
      assert.ok(state === 'COMPLETE' || state === 'PRUNED', `${role} ${state}`);
      assert.ok(reports >= 1 && reports <= 3 && typeof value === 'number' && value >= 0 && value <= 1, `${role}: ${reports} reports, value ${value}`);
    }
  });
});
