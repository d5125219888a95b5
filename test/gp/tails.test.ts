// Tail compression of far outliers before the output warp: off for well-scaled values, monotone and invertible when on, and it keeps the bulk's resolution that plain standardization loses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/gp/rng.js';
import { FENCE, PLATEAU_TRIGGER, TRIGGER } from '../../src/shared/bulk.js';
import { Tails } from '../../src/gp/tails.js';
import { OutputWarp } from '../../src/gp/warp.js';

const bulk = (n: number, seed: number) => {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => 1 + rng.normal());
};

test('values within TRIGGER interquartile ranges of the quartiles are left alone (no compression at all)', () => {
  const y = bulk(40, 1);
  assert.equal(Tails.fit(y), null);
  // A heavy but ordinary tail: a log-normal sample, and a quartic's range.
  const rng = new Rng(2);
  assert.equal(Tails.fit(Array.from({ length: 60 }, () => Math.exp(2 * rng.normal()))), null);
  // 0..9 and one more value: q1 = 2.5, q3 = 7.5 (linear quantiles of 11 values), IQR 5.
  const ten = Array.from({ length: 10 }, (_, i) => i);
  assert.equal(Tails.fit([...ten, 7.5 + 0.99 * TRIGGER * 5]), null, 'just inside the trigger');
  assert.ok(Tails.fit([...ten, 7.5 + 1.01 * TRIGGER * 5]), 'just past it');
  assert.ok(Tails.fit([...ten, 2.5 - 1.01 * TRIGGER * 5]), 'and below');
  assert.equal(Tails.fit([1, 2, 3]), null, 'too few values to say what the bulk is');
});

test('a far outlier triggers it: the quartiles and the fence as defined, compress and expand inverse and increasing', () => {
  const y = [0, 1, 2, 3, 4, 5, 6, 7, 8, 1e30, -1e20];
  const t = Tails.fit(y)!;
  assert.ok(t);
  // numpy's default (linear) quantiles of the 11 values: q1 = 1.5, q3 = 6.5.
  assert.equal(t.scale, 5);
  assert.equal(t.upper, 6.5 + FENCE * 5);
  assert.equal(t.lower, 1.5 - FENCE * 5);
  for (const v of [0, 4, 8, t.upper]) assert.equal(t.compress(v), v, 'the bulk keeps its exact bits');
  const probes = [-1e20, -1e6, -100, t.lower - 1, 0, 8, t.upper + 1e-3, 100, 1e6, 1e30, 1e300];
  for (let i = 1; i < probes.length; i++) assert.ok(t.compress(probes[i]!) > t.compress(probes[i - 1]!), `increasing at ${probes[i]}`);
  // Independent reference: the formula in closed form, and the round trip.
  assert.ok(Math.abs(t.compress(1e30) - (t.upper + 5 * Math.log(1 + Math.log(1 + (1e30 - t.upper) / 5)))) < 1e-12 * t.upper);
  assert.ok(t.compress(1e30) - t.upper < 5 * t.scale, '1e30 lands a few ranges past the fence');
  for (const v of [100, 1e6, 1e12, -1e6]) assert.ok(Math.abs(t.expand(t.compress(v)) - v) < 1e-9 * Math.abs(v), `round trip of ${v}: ${t.expand(t.compress(v))}`);
});

test('ties in the middle half (a plateau) take the smallest distance of another value from it as the scale', () => {
  const y = [...Array(12).fill(0.5), 0.4, 0.75, 1e9];
  const t = Tails.fit(y)!;
  assert.ok(Math.abs(t.scale - 0.1) < 1e-12, String(t?.scale));
  assert.ok(t.compress(1e9) > t.upper && t.compress(1e9) < t.upper + 5 * t.scale, String(t.compress(1e9)));
  assert.equal(Tails.fit([...Array(12).fill(0.5), 0.4, 0.75, 0.75 + 0.99 * PLATEAU_TRIGGER * 0.1]), null, 'a plateau needs PLATEAU_TRIGGER, not TRIGGER');
  assert.ok(0.99 * PLATEAU_TRIGGER > 10 * TRIGGER);
  assert.equal(Tails.fit(Array(10).fill(3)), null, 'all equal: nothing to compress');
  assert.equal(Tails.fit([...Array(10).fill(3), 1e9]), null, 'only the outlier differs: no bulk resolution to keep');
});

test('the warp keeps the bulk apart next to a 1e30 outlier, where plain standardization makes it one value', () => {
  const y = [...bulk(30, 3), 1e30];
  const plain = OutputWarp.fit(y, { tails: false });
  const robust = OutputWarp.fit(y);
  const spread = (w: OutputWarp) => {
    const f = y.slice(0, 30).map((v) => w.forward(v));
    return Math.max(...f) - Math.min(...f);
  };
  assert.equal(spread(plain), 0, 'plain: every ordinary value maps to the same number');
  assert.ok(spread(robust) > 0.5, `robust spread ${spread(robust)}`);
  assert.ok(robust.forward(1e30) > Math.max(...y.slice(0, 30).map((v) => robust.forward(v))), 'the outlier is still the worst');
  for (const v of y.slice(0, 30)) assert.ok(Math.abs(robust.inverse(robust.forward(v)) - v) < 1e-9 * Math.max(1, Math.abs(v)));
  // Without a far value the warp is the one it always was, bit for bit.
  const clean = bulk(30, 4);
  const a = OutputWarp.fit(clean);
  const b = OutputWarp.fit(clean, { tails: false });
  assert.deepEqual([a.m1, a.s1, a.lambda, a.m2, a.s2, a.tails], [b.m1, b.s1, b.lambda, b.m2, b.s2, null]);
});

test('posterior moments in raw units read a compressed tail as its fence: a bulk point is not predicted at 1e19', () => {
  const y = [...bulk(30, 5), 1e30, 1e30, 1e30];
  const w = OutputWarp.fit(y);
  const t = w.tails!;
  assert.ok(t);
  // A wide posterior at a bulk value reaches past the fence with some of its mass.
  for (const variance of [0.01, 1, 4]) {
    const m = w.moments(w.forward(1), variance);
    assert.ok(Number.isFinite(m.mean) && Number.isFinite(m.sd), JSON.stringify(m));
    assert.ok(m.mean >= Math.min(...y) - (t.upper - t.lower) && m.mean <= t.upper, `mean ${m.mean} within the fences`);
    assert.ok(m.sd <= t.upper - t.lower, `sd ${m.sd}`);
  }
  // At the diverged values the prediction is "at least the fence".
  assert.ok(Math.abs(w.moments(w.forward(1e30), 1e-6).mean - t.upper) < 1e-6 * t.upper);
});

test('a warp can be given its compression: a local model takes its global model\'s, or none, whatever its own values say', () => {
  const study = [...bulk(30, 6), 1e6, 2e6];
  const global = OutputWarp.fit(study);
  assert.ok(global.tails, '1e6 among values of IQR ~1.3 is past the trigger');
  // Near the incumbent of a converged run: values 1e-9..1e-3 and one far point, a gap its own fit would compress.
  const local = [1e-9, 2e-9, 5e-9, 1e-8, 3e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 2.5];
  assert.ok(Tails.fit(local), 'its own judgment would compress 2.5');
  assert.equal(OutputWarp.fit(local, { tails: null }).tails, null);
  assert.equal(OutputWarp.fit(local, { tails: global.tails }).tails, global.tails);
  const mine = OutputWarp.fit(local, { tails: global.tails });
  for (const v of local) assert.equal(global.tails!.compress(v), v, 'the global fences leave these alone');
  assert.ok(Math.abs(mine.inverse(mine.forward(2.5)) - 2.5) < 1e-9);
});

test('values up to ±Number.MAX_VALUE (a diverged run told as the largest float) compress to finite values, in order', () => {
  // Accuracies or losses a few hundredths apart: an interquartile range below 1, so MAX_VALUE / range overflows.
  const y = [...bulk(30, 5).map((v) => 0.25 + 0.01 * v), Number.MAX_VALUE, -Number.MAX_VALUE, 1e300, -1e300];
  const tails = Tails.fit(y)!;
  assert.ok(tails, 'the far values trigger compression');
  const top = tails.compress(Number.MAX_VALUE);
  const bottom = tails.compress(-Number.MAX_VALUE);
  assert.ok(Number.isFinite(top) && Number.isFinite(bottom), `compressed to ${top} and ${bottom}: the GP's fit turns an infinity into NaN everywhere`);
  assert.ok(top > tails.compress(1e300) && tails.compress(1e300) > tails.upper, 'order kept past the upper fence');
  assert.ok(bottom < tails.compress(-1e300) && tails.compress(-1e300) < tails.lower, 'order kept past the lower fence');
  const warp = OutputWarp.fit(y);
  for (const v of y) assert.ok(Number.isFinite(warp.forward(v)), `the warp maps ${v} to ${warp.forward(v)}`);
});
