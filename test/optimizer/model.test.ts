// The model adapter: failure imputation, the bounded subset past maxPoints, and recommendations that resist a lucky noisy draw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/gp/rng.js';
import { BayesianOptimizer } from '../../src/optimizer/bayesian.js';
import { modelSubset, rawValues } from '../../src/optimizer/model.js';
import { RandomOptimizer } from '../../src/optimizer/random.js';

test('failures are imputed 5% of the range beyond the worst value, on the side the direction makes worse', () => {
  const obs = [1, 3, null, 2].map((value) => ({ params: {}, value, x: new Float64Array(0) }));
  assert.deepEqual(Array.from(rawValues(obs, 'minimize').raw), [1, 3, 3.1, 2]);
  assert.deepEqual(Array.from(rawValues(obs, 'maximize').raw), [-1, -3, -0.9, -2]);
  assert.deepEqual(Array.from(rawValues(obs, 'minimize').finite), [1, 1, 0, 1]);
});

test('failures stay finite next to values near ±Number.MAX_VALUE, still no better than the worst value', () => {
  const obs = (values: Array<number | null>) => values.map((value) => ({ params: {}, value, x: new Float64Array(0) }));
  for (const [values, direction] of [
    [[0.2, Number.MAX_VALUE, null, 0.3], 'minimize'],
    [[0.2, -Number.MAX_VALUE, null, 0.3], 'maximize'],
    [[0.2, -Number.MAX_VALUE, null, 0.3], 'minimize'],
    [[Number.MAX_VALUE, -Number.MAX_VALUE, null], 'minimize'],
  ] as const) {
    const { raw } = rawValues(obs([...values]), direction);
    const worst = Math.max(...Array.from(raw).filter((_, i) => values[i] !== null));
    assert.ok(Number.isFinite(raw[2]!) && raw[2]! >= worst, `${direction} ${JSON.stringify(values)}: a failure imputed as ${raw[2]} (worst ${worst}); an infinity makes the GP's mean NaN`);
  }
});

test('the subset keeps every point up to maxPoints; beyond, the best quarter plus a seeded sample, same every time', () => {
  const small = Float64Array.from([3, 1, 2]);
  assert.deepEqual(modelSubset(small, 5, 1), [0, 1, 2]);
  const rng = new Rng(2);
  const raw = Float64Array.from({ length: 1000 }, () => rng.normal());
  const sub = modelSubset(raw, 100, 7);
  assert.equal(sub.length, 100);
  assert.equal(new Set(sub).size, 100);
  assert.deepEqual(sub, [...sub].sort((a, b) => a - b));
  const best25 = Array.from(raw.keys()).sort((a, b) => raw[a]! - raw[b]!).slice(0, 25);
  for (const i of best25) assert.ok(sub.includes(i), `best point ${i} left out`);
  assert.deepEqual(modelSubset(raw, 100, 7), sub);
  assert.notDeepEqual(modelSubset(raw, 100, 8), sub);
});

test('recommend trusts the posterior mean over a lucky noisy draw; random search reports its best draw with sd null', async () => {
  const space = { x: { type: 'float' as const, low: 0, high: 1 } };
  const gp = new BayesianOptimizer({ space, direction: 'minimize', seed: 1, initialTrials: 5 });
  const rnd = new RandomOptimizer({ space, direction: 'minimize', seed: 1 });
  const rng = new Rng(3);
  // f(x) = 4 (x - 0.5)^2 observed with noise sd 0.1, densely; the draw at 0.9 (true value 0.64) came out at -0.3.
  for (let i = 0; i <= 40; i++) {
    const x = i / 40;
    const v = x === 0.9 ? -0.3 : 4 * (x - 0.5) ** 2 + 0.1 * rng.normal();
    await gp.addObservation({ x }, v);
    await rnd.addObservation({ x }, v);
  }
  const rec = (await gp.recommend())!;
  assert.ok(Math.abs((rec.params.x as number) - 0.5) <= 0.1, `recommended x = ${rec.params.x}, the lucky draw was at 0.9`);
  assert.ok(Math.abs(rec.mean - 4 * ((rec.params.x as number) - 0.5) ** 2) < 0.1, `predicted ${rec.mean}`);
  assert.ok(rec.sd !== null && rec.sd > 0 && rec.sd < 0.1, `sd ${rec.sd}`);
  assert.equal(typeof rec.observed, 'number');
  const r = (await rnd.recommend())!;
  assert.deepEqual(r, { params: { x: 0.9 }, mean: -0.3, sd: null, observed: -0.3 });
});

test('recommend never returns a prediction that is not a number: past overflow (a run diverged to 1e155) it falls back to the best measured point', async () => {
  const space = { x: { type: 'float' as const, low: 0, high: 1 }, y: { type: 'float' as const, low: 0, high: 1 } };
  for (const big of [1e155, 1e300]) {
    const gp = new BayesianOptimizer({ space, direction: 'minimize', seed: 1 });
    const pts = Array.from({ length: 10 }, (_, i) => ({ x: (i * 0.37) % 1, y: (i * 0.61) % 1 }));
    await gp.addObservation(pts[0]!, big);
    for (let i = 1; i < 10; i++) await gp.addObservation(pts[i]!, 0.5 + 0.01 * i);
    const rec = (await gp.recommend())!;
    assert.ok(Number.isFinite(rec.mean) && (rec.sd === null || Number.isFinite(rec.sd)), `${big}: ${JSON.stringify(rec)}`);
    assert.ok((rec.observed ?? Infinity) < 1, `${big}: recommended the diverged run: ${JSON.stringify(rec)}`);
  }
});

test('maximize: recommend returns the highest posterior mean, in the objective units', async () => {
  const space = { x: { type: 'float' as const, low: 0, high: 1 } };
  const gp = new BayesianOptimizer({ space, direction: 'maximize', seed: 2, initialTrials: 5 });
  for (let i = 0; i <= 20; i++) await gp.addObservation({ x: i / 20 }, 10 - 4 * (i / 20 - 0.3) ** 2);
  const rec = (await gp.recommend())!;
  assert.equal(rec.params.x, 0.3);
  assert.ok(Math.abs(rec.mean - 10) < 0.01 && rec.observed === 10, JSON.stringify(rec));
});
