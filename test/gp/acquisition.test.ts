// LogEI / log PI / UCB: agreement with the naive formulas where those are accurate, finiteness where they underflow, gradients.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as math from 'mathjs';
import { logEI, logPI, ucb } from '../../src/gp/acquisition.js';
import { erf, erfc, normCdf, normPdf } from '../../src/gp/normal.js';

test('erf matches mathjs.erf; erfc keeps relative accuracy in the tail', () => {
  for (let x = -4; x <= 4; x += 0.37) assert.ok(Math.abs(erf(x) - (math.erf(x) as number)) < 1e-15, `erf(${x}): ${erf(x)} vs mathjs ${math.erf(x)}`);
  // erfc(10) = 2.088487583762545e-45 (Abramowitz & Stegun 7.1 asymptotics, to 15 digits).
  assert.ok(Math.abs(erfc(10) / 2.088487583762545e-45 - 1) < 1e-13, `erfc(10) = ${erfc(10)}`);
  assert.ok(Math.abs(erfc(-1) - (1 + (math.erf(1) as number))) < 1e-15);
});

test('logEI equals log of the naive EI where the naive one is accurate', () => {
  const best = 0.3;
  for (const mean of [-2, -0.5, 0, 0.3, 1, 2.5]) {
    for (const variance of [0.01, 0.25, 1, 4]) {
      const s = Math.sqrt(variance);
      const z = (best - mean) / s;
      const naive = Math.log(s * (normPdf(z) + z * normCdf(z)));
      if (z < -5) continue; // cancellation makes the naive formula the inaccurate one there
      const got = logEI(mean, variance, best).value;
      assert.ok(Math.abs(got - naive) < 1e-9 * Math.max(1, Math.abs(naive)), `mean ${mean} var ${variance}: ${got} vs naive ${naive}`);
    }
  }
});

test('logEI stays finite, ordered and smooth far from the incumbent where the naive EI underflows to 0', () => {
  const naiveZero = 1 * (normPdf(-40) + -40 * normCdf(-40));
  assert.ok(naiveZero <= 0, 'precondition: naive EI underflows at z = -40');
  let prev = Infinity;
  for (const z of [-10, -40, -100, -1e3, -1e5]) {
    const v = logEI(-z, 1, 0).value; // mean = -z above best 0
    assert.ok(Number.isFinite(v), `logEI at z = ${z} is ${v}`);
    assert.ok(v < prev, 'logEI must decrease as the point gets worse');
    // Asymptotics: log h(z) ~ -z^2/2 - log(2 pi)/2 - 2 log|z| for z -> -inf.
    const asym = -0.5 * z * z - 0.5 * Math.log(2 * Math.PI) - 2 * Math.log(-z);
    assert.ok(Math.abs(v - asym) < 2 / (z * z) * Math.abs(asym) + 1e-6 * Math.abs(asym), `z=${z}: ${v} vs asymptote ${asym}`);
    prev = v;
  }
  // Continuity across the switch between the direct formula and the continued fraction (z = -3).
  const a = logEI(3 - 1e-9, 1, 0).value;
  const b = logEI(3 + 1e-9, 1, 0).value;
  assert.ok(Math.abs(a - b) < 1e-8, `jump at z = -3: ${a} vs ${b}`);
});

test('logEI, logPI and UCB gradients in mean and variance match finite differences, including deep in the tail', () => {
  const fns = { logEI: (m: number, v: number) => logEI(m, v, 0.1), logPI: (m: number, v: number) => logPI(m, v, 0.1), ucb: (m: number, v: number) => ucb(m, v, 2) };
  for (const [name, f] of Object.entries(fns)) {
    for (const [m, v] of [[0.5, 0.3], [-1, 2], [6, 0.05], [30, 0.5]] as const) {
      const h = 1e-6;
      const g = f(m, v);
      const dm = (f(m + h, v).value - f(m - h, v).value) / (2 * h);
      const dv = (f(m, v + h).value - f(m, v - h).value) / (2 * h);
      assert.ok(Math.abs(g.dMean - dm) < 1e-4 * (1 + Math.abs(dm)), `${name} dMean at (${m}, ${v}): ${g.dMean} vs ${dm}`);
      assert.ok(Math.abs(g.dVariance - dv) < 1e-4 * (1 + Math.abs(dv)), `${name} dVariance at (${m}, ${v}): ${g.dVariance} vs ${dv}`);
    }
  }
});

test('logPI matches the naive log Phi and stays finite in the tail', () => {
  for (const z of [-2, 0, 1.5]) assert.ok(Math.abs(logPI(-z, 1, 0).value - Math.log(normCdf(z))) < 1e-12);
  assert.ok(Number.isFinite(logPI(100, 1, 0).value));
  assert.equal(Math.log(normCdf(-100)), -Infinity, 'precondition: naive log PI underflows');
});
