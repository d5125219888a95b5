// Schedules: values at the paper's breakpoints, monotone ramps, formula checks, exported schedules and file loading.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, DataError } from '../../src/errors.js';
import {
  scheduleAt, scheduleTable, resolveSchedule, describeSchedule, isMonotone, validateSchedule, loadScheduleArg,
  type ExportedSchedule, type ScheduleSpec,
} from '../../src/schedule/index.js';
import { RAMP_SHAPES } from '../../src/shared/ramp.js';

const close = (a: number, b: number, msg: string) => assert.ok(Math.abs(a - b) < 1e-12, `${msg}: ${a} vs ${b}`);

test('batchnorm is rmax 1, rmin 1, dmax 0 at every step, with or without totalSteps', () => {
  assert.deepEqual(scheduleAt({ kind: 'batchnorm' }, 0), { rmax: 1, rmin: 1, dmax: 0 });
  assert.deepEqual(scheduleAt({ kind: 'batchnorm' }, 999, 1000), { rmax: 1, rmin: 1, dmax: 0 });
});

test("paper schedule reproduces Ioffe's 5k/25k/40k breakpoints of a 50k run", () => {
  const p: ScheduleSpec = { kind: 'paper' };
  assert.deepEqual(scheduleAt(p, 0, 50000), { rmax: 1, rmin: 1, dmax: 0 });
  assert.deepEqual(scheduleAt(p, 5000, 50000), { rmax: 1, rmin: 1, dmax: 0 });
  // Halfway through each ramp, computed by hand: rmax 1 + 2 * 0.5, dmax 5 * 0.5.
  close(scheduleAt(p, 22500, 50000).rmax, 2, 'rmax halfway between 5k and 40k');
  close(scheduleAt(p, 15000, 50000).dmax, 2.5, 'dmax halfway between 5k and 25k');
  const at25 = scheduleAt(p, 25000, 50000);
  close(at25.dmax, 5, 'dmax reaches 5 at 25k');
  close(at25.rmax, 1 + 2 * (20000 / 35000), 'rmax at 25k');
  close(at25.rmin, 1 / at25.rmax, 'rmin = 1/rmax');
  assert.deepEqual(scheduleAt(p, 40000, 50000), { rmax: 3, rmin: 1 / 3, dmax: 5 });
  assert.deepEqual(scheduleAt(p, 60000, 50000), { rmax: 3, rmin: 1 / 3, dmax: 5 }, 'past the end stays at the final values');
  assert.deepEqual(resolveSchedule(p, 50000), { kind: 'paper', totalSteps: 50000, shape: 'linear', warmupSteps: 5000, rmaxEndStep: 40000, dmaxEndStep: 25000, rmaxFinal: 3, dmaxFinal: 5 });
  assert.match(describeSchedule(p), /paper/);
});

test('every ramp shape starts at BatchNorm, ends at its finals, never decreases and has the expected midpoint', () => {
  for (const shape of RAMP_SHAPES) {
    const spec = validateSchedule({ kind: 'ramp', shape, warmup: 0.2, rmaxFinal: 4, rmaxEnd: 0.6, dmaxFinal: 3, dmaxEnd: 1 });
    assert.ok(isMonotone(spec), `${shape} ramp must never decrease`);
    assert.deepEqual(scheduleAt(spec, 20, 100), { rmax: 1, rmin: 1, dmax: 0 }, `${shape} at warmup`);
    const end = scheduleAt(spec, 100, 100);
    assert.equal(end.rmax, 4, `${shape} rmax final`);
    assert.equal(end.dmax, 3, `${shape} dmax final`);
    const rows = scheduleTable(spec, 1000, { points: 1001 });
    for (let i = 1; i < rows.length; i++) {
      assert.ok(rows[i].rmax >= rows[i - 1].rmax && rows[i].dmax >= rows[i - 1].dmax && rows[i].rmin <= rows[i - 1].rmin, `${shape} decreases at step ${rows[i].step}`);
    }
  }
  // Midpoints of each ease (u = 0.5), by hand: linear halfway, cosine halfway too (symmetric), exponential geometric.
  const mid = (shape: string) => scheduleAt(validateSchedule({ kind: 'ramp', shape, warmup: 0, rmaxFinal: 4, rmaxEnd: 1, dmaxFinal: 3, dmaxEnd: 1 }), 50, 100);
  close(mid('linear').rmax, 2.5, 'linear rmax');
  close(mid('cosine').dmax, 1.5, 'cosine dmax');
  close(mid('exponential').rmax, 2, 'exponential rmax = sqrt(4)');
  close(mid('exponential').dmax, 1, 'exponential dmax = sqrt(1 + 3) - 1');
  close(scheduleAt(validateSchedule({ kind: 'ramp', shape: 'cosine', warmup: 0, rmaxEnd: 1, dmaxEnd: 1 }), 25, 100).dmax, 5 * (1 - Math.cos(Math.PI / 4)) / 2, 'cosine quarter');
});

test('exponential ramps are well-defined from 1 -> 1 and 0 -> 0', () => {
  const flat = validateSchedule({ kind: 'ramp', shape: 'exponential', rmaxFinal: 1, dmaxFinal: 0 });
  for (const row of scheduleTable(flat, 100)) assert.deepEqual({ rmax: row.rmax, dmax: row.dmax }, { rmax: 1, dmax: 0 });
});

test('formulas evaluate over t, step and totalSteps with clamp, and non-monotone formulas are flagged', () => {
  const f = validateSchedule({ kind: 'formula', rmax: '1 + 2 * clamp((t - 0.1) / 0.5, 0, 1)', dmax: 'step < totalSteps / 2 ? 0 : 5' });
  const c = scheduleAt(f, 350, 1000);
  close(c.rmax, 2, 'rmax at t = 0.35');
  close(c.rmin, 0.5, 'rmin defaults to 1/rmax');
  assert.equal(c.dmax, 0);
  assert.equal(scheduleAt(f, 500, 1000).dmax, 5);
  assert.ok(isMonotone(f));
  const down = validateSchedule({ kind: 'formula', rmax: '1 + sin(pi * t)', dmax: '0', rmin: '1 / (1 + sin(pi * t))' });
  assert.equal(isMonotone(down), false);
});

test('validateSchedule rejects bad schedules with a ConfigError naming the field', () => {
  const cases: [unknown, string, RegExp?][] = [
    [null, 'schedule'],
    [{ kind: 'nope' }, 'schedule.kind'],
    [{ kind: 'paper', rmaxFinale: 3 }, 'schedule.rmaxFinale', /unknown field/],
    [{ kind: 'paper', warmup: 1.5 }, 'schedule.warmup'],
    [{ kind: 'paper', warmup: -0.1 }, 'schedule.warmup'],
    [{ kind: 'paper', warmup: 0.5, rmaxEnd: 0.4 }, 'schedule.rmaxEnd', /before warmup/],
    [{ kind: 'paper', warmup: 0.6 }, 'schedule.dmaxEnd', /before warmup/],
    [{ kind: 'paper', rmaxFinal: 0.5 }, 'schedule.rmaxFinal'],
    [{ kind: 'paper', dmaxFinal: -1 }, 'schedule.dmaxFinal'],
    [{ kind: 'paper', dmaxFinal: '5' }, 'schedule.dmaxFinal'],
    [{ kind: 'ramp', shape: 'quadratic' }, 'schedule.shape'],
    [{ kind: 'batchnorm', rmax: 2 }, 'schedule.rmax', /unknown field/],
    [{ kind: 'formula', rmax: '1 +', dmax: '0' }, 'schedule.rmax', /syntax/],
    [{ kind: 'formula', rmax: '1 + foo * t', dmax: '0' }, 'schedule.rmax', /unknown symbol 'foo'/],
    [{ kind: 'formula', rmax: 'evaluate("1")', dmax: '0' }, 'schedule.rmax', /unknown function 'evaluate'/],
    [{ kind: 'formula', rmax: 'import({}, {})', dmax: '0' }, 'schedule.rmax', /unknown function 'import'/],
    [{ kind: 'formula', rmax: 'f(x) = 2', dmax: '0' }, 'schedule.rmax', /not allowed/],
    [{ kind: 'formula', rmax: 'a = 2', dmax: '0' }, 'schedule.rmax', /not allowed/],
    [{ kind: 'formula', rmax: '1 + 1 / abs(t - 0.5)', dmax: '0' }, 'schedule.rmax', /Infinity at t = 0.5/],
    [{ kind: 'formula', rmax: '1 + sqrt(t - 0.5)', dmax: '0' }, 'schedule.rmax', /NaN/],
    [{ kind: 'formula', rmax: '2 - t * 1.5', dmax: '0' }, 'schedule.rmax', /< 1/],
    [{ kind: 'formula', rmax: '1', dmax: 't - 0.5' }, 'schedule.dmax', /< 0/],
    [{ kind: 'formula', rmax: '1', dmax: '0', rmin: '1.5' }, 'schedule.rmin'],
    [{ kind: 'formula', rmax: '1', dmax: '0', rmin: '0' }, 'schedule.rmin'],
    [{ kind: 'formula', rmax: '1', dmax: 't > 0.5' }, 'schedule.dmax', /NaN/],
    [{ kind: 'formula', rmax: '1' }, 'schedule.dmax'],
  ];
  for (const [raw, field, message] of cases) {
    assert.throws(() => validateSchedule(raw), (err: unknown) => {
      assert.ok(err instanceof ConfigError, `${JSON.stringify(raw)} should throw ConfigError, got ${err}`);
      assert.equal(err.field, field, `${JSON.stringify(raw)}: wrong field in "${err.message}"`);
      if (message) assert.match(err.message, message);
      return true;
    });
  }
  assert.equal((() => { try { validateSchedule({ kind: 'paper', warmup: 2 }, 'trial.schedule'); } catch (e) { return (e as ConfigError).field; } })(), 'trial.schedule.warmup');
});

function exported(schedule: ScheduleSpec, totalSteps: number): ExportedSchedule {
  return {
    format: 'renorm-tune/schedule', version: 1, schedule, totalSteps, resolved: resolveSchedule(schedule, totalSteps),
    table: scheduleTable(schedule, totalSteps), trialId: 3, objective: { metric: 'valAccuracy', direction: 'maximize' }, value: 0.9,
    baselines: { batchnorm: 0.8, paper: 0.85 },
    provenance: { study: 's', studyId: 'id', scenario: {}, seed: 1, backend: 'cpu', packageVersion: '0.1.0', exportedAt: new Date(0).toISOString() },
  };
}

test('an exported schedule resolves with its own totalSteps unless given one, and loads from a file', () => {
  const spec = validateSchedule({ kind: 'ramp', shape: 'cosine', warmup: 0.1, rmaxFinal: 2.5, rmaxEnd: 0.7, dmaxFinal: 4, dmaxEnd: 0.6 });
  const ex = exported(spec, 2000);
  assert.deepEqual(scheduleAt(ex, 700), scheduleAt(spec, 700, 2000));
  assert.deepEqual(ex.table.find((r) => r.step === 1000), { step: 1000, ...scheduleAt(spec, 1000, 2000) });
  const dir = mkdtempSync(join(tmpdir(), 'sched-'));
  const file = join(dir, 'best.json');
  writeFileSync(file, JSON.stringify(ex));
  assert.deepEqual(scheduleAt(loadScheduleArg(file), 700), scheduleAt(spec, 700, 2000));
  const plain = join(dir, 'plain.json');
  writeFileSync(plain, JSON.stringify({ kind: 'paper', warmup: 0.2 }));
  assert.deepEqual(loadScheduleArg(plain), { kind: 'paper', warmup: 0.2 });
  assert.deepEqual(loadScheduleArg('paper'), { kind: 'paper' });
  assert.deepEqual(loadScheduleArg('batchnorm'), { kind: 'batchnorm' });
});

test('loadScheduleArg names the file on missing, unparsable or invalid schedules', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sched-'));
  const missing = join(dir, 'missing.json');
  assert.throws(() => loadScheduleArg(missing), (e: unknown) => e instanceof DataError && e.file === missing && /ENOENT/.test(e.message) && !/did you mean/.test(e.message));
  assert.throws(() => loadScheduleArg('papr'), (e: unknown) => e instanceof DataError && /\(did you mean 'paper'\?\)/.test(e.message), 'a near miss of a built-in is a typo');
  assert.throws(() => loadScheduleArg('batchnrm'), /did you mean 'batchnorm'/);
  const broken = join(dir, 'broken.json');
  writeFileSync(broken, '{"kind": ');
  assert.throws(() => loadScheduleArg(broken), (e: unknown) => e instanceof DataError && e.file === broken);
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ kind: 'paper', rmaxFinal: 0 }));
  assert.throws(() => loadScheduleArg(bad), (e: unknown) => e instanceof ConfigError && e.field === `${bad}.rmaxFinal`);
  const badExport = join(dir, 'bad-export.json');
  writeFileSync(badExport, JSON.stringify({ ...exported({ kind: 'paper' }, 100), totalSteps: 0 }));
  assert.throws(() => loadScheduleArg(badExport), (e: unknown) => e instanceof ConfigError && e.field === `${badExport}.totalSteps`);
});

test('scheduleAt stretches an export or an asked trial to the totalSteps given (the run length it carries only when none is)', () => {
  const spec = validateSchedule({ kind: 'ramp', shape: 'exponential', warmup: 0.1, rmaxFinal: 3.088, rmaxEnd: 0.9, dmaxFinal: 4, dmaxEnd: 0.6 });
  const ex = exported(spec, 1000);
  // The example: half-way through a 10000-step run is half-way through the schedule, not its end.
  assert.deepEqual(scheduleAt(ex, 5000, 10000), scheduleAt(spec, 5000, 10000));
  assert.notEqual(scheduleAt(ex, 5000, 10000).rmax, 3.088);
  assert.deepEqual(scheduleAt(ex, 500), scheduleAt(spec, 500, 1000));
  const trial = { id: 4, number: 2, schedule: spec, totalSteps: 3000, renormMomentum: 0.99 };
  assert.deepEqual(scheduleAt(trial, 1500), scheduleAt(spec, 1500, 3000));
  assert.deepEqual(scheduleAt(trial, 1500, 6000), scheduleAt(spec, 750, 3000));
  assert.throws(() => scheduleAt({ schedule: spec }, 10), (e: unknown) => e instanceof ConfigError && e.field === 'totalSteps');
});

test('scheduleAt needs a run length for relative schedules', () => {
  assert.throws(() => scheduleAt({ kind: 'paper' }, 10), (e: unknown) => e instanceof ConfigError && e.field === 'totalSteps');
});

test('a formula over step is checked at the length of the run that uses it: left unchecked when that is not known yet, refused at a length where it fails, with the advice to write it over t', () => {
  const f80 = { kind: 'formula', rmax: '2 - step/80', dmax: '0' };
  // It was refused against a made-up 1000-step run ("is 0.9875 < 1 at t = 0.081"), though valid for its own 80 steps.
  assert.deepEqual(validateSchedule(f80), f80, 'no run length yet: only parsed');
  assert.deepEqual(validateSchedule(f80, 'schedule', { totalSteps: 80 }), f80);
  assert.throws(() => validateSchedule(f80, 'schedule', { totalSteps: 160 }),
    (e: unknown) => e instanceof ConfigError && e.field === 'schedule.rmax' && /at step \d+(\.\d+)? of 160 .*write it over t/.test(e.message));
  assert.throws(() => validateSchedule({ kind: 'formula', rmax: '2 - step +', dmax: '0' }), /syntax error/, 'without a run length it is still parsed');
  assert.throws(() => validateSchedule({ kind: 'formula', rmax: '0.5 + t', dmax: '0' }), /is 0.5 < 1 at t = 0/, 'a formula over t alone is checked at any length');
  const dir = mkdtempSync(join(tmpdir(), 'sched-'));
  const file = join(dir, 'f80.json');
  writeFileSync(file, JSON.stringify(f80));
  assert.deepEqual(loadScheduleArg(file, { totalSteps: 80 }), f80, '`train --schedule f80.json` on an 80-step scenario');
  assert.throws(() => loadScheduleArg(file, { totalSteps: 100 }), (e: unknown) => e instanceof ConfigError && e.field === `${file}.rmax`);
  // An export of it trained 80 steps, used on a run of 160: refused up front, not at step 81.
  const ex = join(dir, 'ex.json');
  writeFileSync(ex, JSON.stringify(exported(f80 as ScheduleSpec, 80)));
  assert.equal((loadScheduleArg(ex, { totalSteps: 80 }) as ExportedSchedule).totalSteps, 80);
  assert.throws(() => loadScheduleArg(ex, { totalSteps: 160 }), (e: unknown) => e instanceof ConfigError && e.field === `${ex}.schedule.rmax` && /of 160/.test(e.message));
});

test("an export's renormMomentum is checked when read back, in the layer's range [0, 1)", () => {
  const dir = mkdtempSync(join(tmpdir(), 'sched-'));
  const write = (name: string, m: unknown) => {
    const file = join(dir, name);
    writeFileSync(file, JSON.stringify({ ...exported({ kind: 'paper' }, 100), renormMomentum: m }));
    return file;
  };
  assert.equal((loadScheduleArg(write('ok.json', 0.926)) as ExportedSchedule).renormMomentum, 0.926);
  assert.equal((loadScheduleArg(write('zero.json', 0)) as ExportedSchedule).renormMomentum, 0, 'a space may fix it at 0, so its export says 0');
  for (const [name, m] of [['five.json', 5], ['one.json', 1], ['text.json', '0.9'], ['neg.json', -0.1]] as const) {
    const file = write(name, m);
    assert.throws(() => loadScheduleArg(file), (e: unknown) => e instanceof ConfigError && e.field === `${file}.renormMomentum` && /\[0, 1\)/.test(e.message), name);
  }
});

test('scheduleAt refuses a step that is not a finite number (it gave NaN limits)', () => {
  for (const step of [Number.NaN, Infinity]) {
    for (const spec of [{ kind: 'paper' }, { kind: 'batchnorm' }, { kind: 'formula', rmax: '1 + t', dmax: 't' }] as ScheduleSpec[]) {
      assert.throws(() => scheduleAt(spec, step, 100), (e: unknown) => e instanceof ConfigError && e.field === 'step', `${spec.kind} at ${step}`);
    }
  }
});
