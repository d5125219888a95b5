// The per-step table a trainer interpolates: breakpoints included, exact for linear ramps, within 1e-3 of the closed form for curved ones, on dense points.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_TABLE_ROWS, breakpoints, interpolateTable, scheduleAt, scheduleTable, validateSchedule,
  type Clipping, type RampSchedule, type ScheduleSpec, type ScheduleTableRow,
} from '../../src/schedule/index.js';
import { rng } from '../fixtures/rng.js';

/**
 * The README's formulas, written out again here so that both the table and scheduleAt are held to an independent
 * reading of them: u = 0 up to the warm-up, 1 from the end on, (t - warmup) / (end - warmup) between; linear 1 + (R - 1) u and D u; cosine
 * with (1 - cos(pi u)) / 2 as the ease; exponential R^u and (1 + D)^u - 1; rmin = 1 / rmax.
 */
function closedForm(r: RampSchedule, t: number): Clipping {
  const u = (end: number) => (t <= r.warmup ? 0 : t >= end ? 1 : (t - r.warmup) / (end - r.warmup));
  const ur = u(r.rmaxEnd);
  const ud = u(r.dmaxEnd);
  const ease = (x: number) => (r.shape === 'cosine' ? (1 - Math.cos(Math.PI * x)) / 2 : x);
  const rmax = r.shape === 'exponential' ? r.rmaxFinal ** ur : 1 + (r.rmaxFinal - 1) * ease(ur);
  const dmax = r.shape === 'exponential' ? (1 + r.dmaxFinal) ** ud - 1 : r.dmaxFinal * ease(ud);
  return { rmax, rmin: 1 / rmax, dmax };
}

function randomRamp(rand: () => number, shape: RampSchedule['shape']): RampSchedule {
  const warmup = rand() < 0.2 ? 0 : 0.5 * rand();
  return {
    kind: 'ramp', shape, warmup,
    rmaxFinal: Math.exp(Math.log(5) * rand()) * (rand() < 0.1 ? 20 : 1),
    rmaxEnd: warmup + (1 - warmup) * (rand() < 0.1 ? 0 : rand()),
    dmaxFinal: 6 * rand(),
    dmaxEnd: warmup + (1 - warmup) * rand(),
  };
}

/** Largest |interpolated - closed form| of each limit over `n` evenly spread points and every point a little off each row. */
function worstError(table: ScheduleTableRow[], truth: (step: number) => Clipping, totalSteps: number, n = 20_000): Clipping {
  const worst = { rmax: 0, rmin: 0, dmax: 0 };
  const probe = (s: number) => {
    const got = interpolateTable(table, s);
    const want = truth(s);
    for (const k of ['rmax', 'rmin', 'dmax'] as const) worst[k] = Math.max(worst[k], Math.abs(got[k] - want[k]));
  };
  for (let i = 0; i <= n; i++) probe((i * totalSteps) / n + (i % 7) * 1e-3);
  for (const row of table) for (const d of [-0.37, 0.41]) probe(Math.min(totalSteps, Math.max(0, row.step + d)));
  return worst;
}

function checkShape(table: ScheduleTableRow[], spec: ScheduleSpec, totalSteps: number, what: string): void {
  assert.ok(table.length >= 101, `${what}: ${table.length} rows, want >= 101`);
  assert.equal(table[0]!.step, 0, `${what}: starts at step 0`);
  assert.equal(table.at(-1)!.step, totalSteps, `${what}: ends at totalSteps`);
  for (let i = 1; i < table.length; i++) assert.ok(table[i]!.step > table[i - 1]!.step, `${what}: steps must increase (row ${i})`);
  for (const t of breakpoints(spec)) assert.ok(table.some((r) => r.step === t * totalSteps), `${what}: breakpoint t = ${t} (step ${t * totalSteps}) is not a row`);
  for (const row of table.filter((_, i) => i % 13 === 0)) assert.deepEqual(row, { step: row.step, ...scheduleAt(spec, row.step, totalSteps) }, `${what}: a row is scheduleAt at its step`);
}

test('scheduleAt agrees with the README formulas for every shape (the reference the table is held to)', () => {
  const rand = rng(11);
  for (const shape of ['linear', 'cosine', 'exponential'] as const) {
    for (let k = 0; k < 20; k++) {
      const r = randomRamp(rand, shape);
      for (let i = 0; i <= 200; i++) {
        const t = i / 200;
        const got = scheduleAt(r, t * 1000, 1000);
        const want = closedForm(r, t);
        for (const key of ['rmax', 'rmin', 'dmax'] as const) assert.ok(Math.abs(got[key] - want[key]) < 1e-12, `${shape} ${JSON.stringify(r)} at t = ${t}: ${key} ${got[key]} vs ${want[key]}`);
      }
    }
  }
});

test('linear ramps: every breakpoint is a row, so interpolating rmax and dmax is exact; rmin (curved) within 1e-3', () => {
  const rand = rng(1);
  for (let k = 0; k < 12; k++) {
    const r = k === 0 ? validateSchedule({ kind: 'ramp', shape: 'linear' }) as RampSchedule : randomRamp(rand, 'linear');
    for (const totalSteps of [100, 1234, 50_000]) {
      const table = scheduleTable(r, totalSteps);
      const what = `linear ${JSON.stringify(r)} over ${totalSteps}`;
      checkShape(table, r, totalSteps, what);
      const e = worstError(table, (s) => closedForm(r, s / totalSteps), totalSteps);
      assert.ok(e.rmax < 1e-9 && e.dmax < 1e-9, `${what}: rmax/dmax must interpolate exactly, errors ${e.rmax}, ${e.dmax}`);
      assert.ok(e.rmin < 1e-3, `${what}: rmin error ${e.rmin}`);
    }
  }
  // The paper's schedule is a linear ramp: its 5k / 25k / 40k breakpoints of a 50k run are rows.
  const paper = scheduleTable({ kind: 'paper' }, 50_000);
  for (const step of [5000, 25_000, 40_000]) assert.ok(paper.some((r) => r.step === step), `paper: step ${step} is a row`);
});

test('cosine and exponential ramps: interpolation within 1e-3 of the closed form on dense points, for random ramps and run lengths', () => {
  const rand = rng(2);
  for (const shape of ['cosine', 'exponential'] as const) {
    for (let k = 0; k < 15; k++) {
      const r = randomRamp(rand, shape);
      const totalSteps = [37, 1000, 20_000, 123_457][k % 4]!;
      const table = scheduleTable(r, totalSteps);
      const what = `${shape} ${JSON.stringify(r)} over ${totalSteps}`;
      checkShape(table, r, totalSteps, what);
      const e = worstError(table, (s) => closedForm(r, s / totalSteps), totalSteps);
      assert.ok(Math.max(e.rmax, e.rmin, e.dmax) < 1e-3, `${what}: errors ${JSON.stringify(e)}`);
    }
  }
});

test('steep ramps at the search-space limits (rmaxFinal, dmaxFinal 1000, a ramp over 2% of the run) keep the bound within the row cap', () => {
  for (const shape of ['linear', 'cosine', 'exponential'] as const) {
    const r: RampSchedule = { kind: 'ramp', shape, warmup: 0.4, rmaxFinal: 1000, rmaxEnd: 0.42, dmaxFinal: 1000, dmaxEnd: 0.41 };
    const table = scheduleTable(r, 10_000);
    assert.ok(table.length < MAX_TABLE_ROWS, `${shape}: ${table.length} rows`);
    const e = worstError(table, (s) => closedForm(r, s / 10_000), 10_000, 50_000);
    assert.ok(Math.max(e.rmax, e.rmin, e.dmax) < 1e-3, `${shape}: errors ${JSON.stringify(e)}`);
  }
});

test('a zero-length ramp (a step at the warm-up) is exact on both sides of the step', () => {
  const r: RampSchedule = { kind: 'ramp', shape: 'linear', warmup: 0.3, rmaxFinal: 3, rmaxEnd: 0.3, dmaxFinal: 5, dmaxEnd: 0.3 };
  const table = scheduleTable(r, 1000);
  assert.deepEqual(interpolateTable(table, 299.999), closedForm(r, 0.299999));
  assert.deepEqual(interpolateTable(table, 300), closedForm(r, 0.3));
  const e = worstError(table, (s) => closedForm(r, s / 1000), 1000);
  assert.ok(Math.max(e.rmax, e.rmin, e.dmax) < 1e-3, `errors ${JSON.stringify(e)}`);
});

test('batchnorm is 101 constant rows; formulas are refined around kinks, and a jump is resolved to a sliver of the run', () => {
  const bn = scheduleTable({ kind: 'batchnorm' }, 500);
  assert.equal(bn.length, 101);
  assert.ok(bn.every((r) => r.rmax === 1 && r.rmin === 1 && r.dmax === 0));
  const kink = validateSchedule({ kind: 'formula', rmax: '1 + 2 * clamp((t - 0.1234) / 0.3, 0, 1)', dmax: '5 * clamp((t - 0.3) / 0.2, 0, 1) ^ 2' });
  const kt = scheduleTable(kink, 7000);
  const ke = worstError(kt, (s) => scheduleAt(kink, s, 7000), 7000);
  assert.ok(Math.max(ke.rmax, ke.rmin, ke.dmax) < 1e-3, `formula with kinks: errors ${JSON.stringify(ke)}`);
  const jump = validateSchedule({ kind: 'formula', rmax: 't < 0.5 ? 1 : 3', dmax: '0' });
  const jt = scheduleTable(jump, 1000);
  assert.ok(jt.length < 400, `${jt.length} rows for one jump`);
  const after = jt.find((r) => r.rmax === 3)!;
  const before = jt[jt.indexOf(after) - 1]!;
  assert.ok(before.rmax === 1 && after.step - before.step < 1e-5, `the jump is between rows ${before.step} and ${after.step}`);
});

test('a formula oscillating faster than any table stops at the row cap instead of running away', () => {
  const wild = validateSchedule({ kind: 'formula', rmax: '2 + sin(100000 * t)', dmax: '0' });
  const table = scheduleTable(wild, 1000);
  assert.ok(table.length <= MAX_TABLE_ROWS + 1, `${table.length} rows`);
});

test('interpolateTable clamps outside the table and refuses an empty one', () => {
  const table = scheduleTable({ kind: 'paper' }, 100);
  assert.deepEqual(interpolateTable(table, -5), { rmax: 1, rmin: 1, dmax: 0 });
  assert.deepEqual(interpolateTable(table, 1e9), { rmax: 3, rmin: 1 / 3, dmax: 5 });
  assert.throws(() => interpolateTable([], 1), RangeError);
  assert.throws(() => scheduleTable({ kind: 'paper' }, 0), /totalSteps/);
});
