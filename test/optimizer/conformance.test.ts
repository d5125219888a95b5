// The contract every optimizer must meet (random and GP, in process and in a worker thread): space respected, reproducible, no repeated work, rebuildable, strict tell, recommend/importance shapes.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, ConflictError, NotFoundError } from '../../src/errors.js';
import { createOptimizer, optimizerNames } from '../../src/optimizer/factory.js';
import { EncodedSpace, validateSpace, type SearchSpace } from '../../src/optimizer/space.js';
import { ThreadedOptimizer } from '../../src/optimizer/threaded.js';
import type { Optimizer, OptimizerKind, OptimizerOptions, Suggestion } from '../../src/optimizer/types.js';
import type { Params } from '../../src/study/types.js';

const SPACE: SearchSpace = {
  lr: { type: 'float', low: 1e-4, high: 1e-1, log: true },
  x: { type: 'float', low: -2, high: 3 },
  layers: { type: 'int', low: 1, high: 4 },
  width: { type: 'int', low: 8, high: 512, log: true },
  act: { type: 'categorical', choices: ['relu', 'tanh', 7] },
};
const encoded = new EncodedSpace(validateSpace(SPACE));
const key = (p: Params) => encoded.key(p);

function objective(p: Params): number {
  return (Math.log10(p.lr as number) + 2) ** 2 + (p.x as number) ** 2 + ((p.layers as number) - 2) ** 2 + Math.log2((p.width as number) / 64) ** 2 / 4 + (p.act === 'tanh' ? 0 : 0.5);
}

/** Every optimizer, in process and hosted in a worker thread: the host must be indistinguishable through the interface. */
const VARIANTS = optimizerNames.flatMap((kind) => [
  { label: kind, kind, threaded: false },
  { label: `${kind} (worker thread)`, kind, threaded: true },
]);
const open: Optimizer[] = [];

function build(kind: OptimizerKind, threaded: boolean, options: OptimizerOptions): Optimizer {
  const opt = threaded ? new ThreadedOptimizer(kind, options) : createOptimizer(kind, options);
  open.push(opt);
  return opt;
}

const makeInProcess = (kind: OptimizerKind, seed = 1) => build(kind, false, { space: SPACE, direction: 'minimize', seed, initialTrials: 4 });

after(async () => {
  await Promise.all(open.map((o) => o.close()));
});

/** Asks in batches and tells objective values; returns every suggestion in order. */
async function drive(opt: Optimizer, batches: number[]): Promise<Suggestion[]> {
  const all: Suggestion[] = [];
  for (const b of batches) {
    const s = await opt.ask(b);
    all.push(...s);
    for (const t of s) await opt.tell(t.id, objective(t.params));
  }
  return all;
}

for (const { label: name, kind, threaded } of VARIANTS) {
  // initialTrials 4 so the GP's model path (not just its Sobol design) is exercised within a few asks.
  const make = (_kind: OptimizerKind, seed = 1) => build(kind, threaded, { space: SPACE, direction: 'minimize', seed, initialTrials: 4 });
  describe(`optimizer conformance: ${name}`, () => {
    test('suggestions are points of the space: bounds, integral ints, categoricals from the choices', async () => {
      const all = await drive(make(kind), [3, 3, 2, 2, 1, 1]);
      for (const s of all) {
        assert.doesNotThrow(() => encoded.validateParams(s.params), `${name} suggested ${JSON.stringify(s.params)}`);
        assert.ok(Number.isInteger(s.params.layers) && Number.isInteger(s.params.width));
      }
    });

    test('same seed and history give the same suggestions; another seed differs', async () => {
      const a = await drive(make(kind, 5), [2, 2, 1, 1]);
      const b = await drive(make(kind, 5), [2, 2, 1, 1]);
      assert.deepEqual(b, a, `${name} is not reproducible for a fixed seed`);
      const c = await make(kind, 6).ask(1);
      assert.notDeepEqual(c[0]!.params, a[0]!.params);
    });

    test('no duplicates within a batch, against pending trials, or against observations', async () => {
      const opt = make(kind);
      const observed = await drive(opt, [4, 2, 2]);
      const pendingId = opt.addPending({ lr: 0.01, x: 0, layers: 2, width: 64, act: 'tanh' });
      assert.equal(typeof pendingId, 'string');
      const batch = await opt.ask(6);
      const known = new Set(observed.map((o) => key(o.params)));
      const keys = batch.map((s) => key(s.params));
      assert.equal(new Set(keys).size, keys.length, `${name} repeated a point within one batch`);
      for (const k of keys) {
        assert.ok(!known.has(k), `${name} re-suggested an observed point`);
        assert.notEqual(k, key({ lr: 0.01, x: 0, layers: 2, width: 64, act: 'tanh' }), `${name} re-suggested a pending point`);
      }
      await opt.tell(pendingId, 1.5);
    });

    test('a small discrete space is covered without repeats until it is exhausted', async () => {
      const opt = build(kind, threaded, { space: { n: { type: 'int', low: 1, high: 3 }, c: { type: 'categorical', choices: ['a', 'b'] } }, direction: 'maximize', seed: 3, initialTrials: 2 });
      const seen = new Set<string>();
      for (let i = 0; i < 6; i++) {
        const [s] = await opt.ask(1);
        const k = JSON.stringify(s!.params);
        assert.ok(!seen.has(k), `${name} repeated ${k} with ${6 - i} points still unused`);
        seen.add(k);
        await opt.tell(s!.id, (s!.params.n as number) + (s!.params.c === 'a' ? 1 : 0));
      }
    });

    test('tell rejects unknown ids, second tells and non-finite values; addObservation rejects points outside the space', async () => {
      const opt = make(kind);
      const [s] = await opt.ask(1);
      await assert.rejects(opt.tell('nope', 1), NotFoundError);
      await assert.rejects(opt.tell(s!.id, NaN), ConfigError);
      await assert.rejects(opt.tell(s!.id, Infinity), ConfigError);
      await opt.tell(s!.id, 1); // still pending after the rejected tells
      await assert.rejects(opt.tell(s!.id, 2), ConflictError);
      await assert.rejects(opt.addObservation({ ...s!.params, layers: 9 }, 1), (e: unknown) => e instanceof ConfigError && e.field === 'params.layers');
      await assert.rejects(opt.addObservation(s!.params, -Infinity), ConfigError);
      assert.throws(() => opt.addPending({ ...s!.params, act: 'gelu' }), ConfigError);
      await assert.rejects(opt.ask(0), ConfigError);
    });

    test('failed trials (null) and duplicate observations do not break later asks', async () => {
      const opt = make(kind);
      const first = await opt.ask(4);
      for (const s of first) await opt.tell(s.id, null);
      const p = { lr: 0.01, x: 0.5, layers: 2, width: 64, act: 'tanh' };
      await opt.addObservation(p, 0.3);
      await opt.addObservation(p, 0.31);
      await opt.addObservation(p, 0.29);
      const more = await drive(opt, [2, 2]);
      for (const s of more) assert.doesNotThrow(() => encoded.validateParams(s.params));
    });

    test('rebuilding from stored trials (addObservation + addPending) gives the same next suggestion as the live optimizer', async () => {
      const live = make(kind, 9);
      const done = await drive(live, [3, 3]);
      const [running] = await live.ask(1);
      const rebuilt = make(kind, 9);
      for (const s of done) await rebuilt.addObservation(s.params, objective(s.params));
      rebuilt.addPending(running!.params);
      const [a] = await rebuilt.ask(1);
      const [b] = await live.ask(1);
      assert.deepEqual(a!.params, b!.params);
    });

    test('recommend: null before any finite result, then an observed point with its measured value', async () => {
      const opt = make(kind);
      assert.equal(await opt.recommend(), null);
      const [failed] = await opt.ask(1);
      await opt.tell(failed!.id, null);
      assert.equal(await opt.recommend(), null, 'a failed trial is not a recommendation');
      const all = await drive(opt, [3, 3, 2]);
      const rec = await opt.recommend();
      assert.ok(rec, `${name} recommended nothing after ${all.length} results`);
      const match = all.find((s) => key(s.params) === key(rec.params));
      assert.ok(match, `${name} recommended ${JSON.stringify(rec.params)}, which was never observed`);
      assert.equal(rec.observed, objective(match.params));
      assert.ok(Number.isFinite(rec.mean) && (rec.sd === null || rec.sd >= 0), `mean ${rec.mean}, sd ${rec.sd}`);
    });

    test('recommend among some points: the best of them by its own prediction at each, never one outside them', async () => {
      const opt = make(kind);
      const all = await drive(opt, [4, 3, 3]);
      const overall = (await opt.recommend())!;
      const others = all.map((s) => s.params).filter((p) => key(p) !== key(overall.params));
      const among = others.slice(0, 6);
      const each = await Promise.all(among.map(async (p) => (await opt.recommend([p]))!));
      each.forEach((r, i) => assert.equal(key(r.params), key(among[i]!), `${name}: recommend([p]) is p`));
      const best = each.reduce((a, b) => (b.mean < a.mean ? b : a));
      const rec = (await opt.recommend(among))!;
      assert.equal(key(rec.params), key(best.params), `${name}: the lowest prediction among the six`);
      assert.equal(rec.mean, best.mean);
      assert.equal(await opt.recommend([]), null, 'among nothing: nothing');
      assert.equal(await opt.recommend([{ ...overall.params, x: 2.999 }]), null, 'among points never observed: nothing');
    });

    test('importance: null with too few results, then one non-negative share per parameter summing to 1', async () => {
      const opt = make(kind);
      assert.equal(await opt.importance(), null);
      await drive(opt, [4, 2, 2]);
      const early = await opt.importance();
      assert.ok(early, `${name} gave no importance after 8 results`);
      // With 8 points in 5 dimensions a model may fit the values shuffled as well: then it says so, with no shares.
      if (early.status === 'flat') assert.match(early.reason, /shuffled among them/);
      await drive(opt, [4, 4]);
      const r = (await opt.importance())!;
      assert.equal(r.status, 'available', `${name}: ${JSON.stringify(r)}`);
      const imp = (r as { shares: Record<string, number> }).shares;
      assert.deepEqual(Object.keys(imp), Object.keys(SPACE));
      const total = Object.values(imp).reduce((a, b) => a + b, 0);
      assert.ok(Object.values(imp).every((v) => v >= 0) && Math.abs(total - 1) < 1e-9, JSON.stringify(imp));
    });

    test('close: later calls reject with OPTIMIZER_CLOSED (in-process optimizers hold nothing to close)', async () => {
      const opt = make(kind);
      await opt.close();
      if (threaded) await assert.rejects(opt.ask(1), (e: unknown) => (e as { code?: string }).code === 'OPTIMIZER_CLOSED');
      else assert.equal((await opt.ask(1)).length, 1);
      await opt.close(); // idempotent
    });
  });
}

test('GP slices: one per parameter in the GpView shape, null before the model exists; random has none', async () => {
  const opt = makeInProcess('gp');
  assert.equal(await opt.slices(), null);
  await drive(opt, [4, 2]);
  const slices = await opt.slices(undefined, 20);
  assert.ok(slices);
  assert.deepEqual(slices.map((s) => s.name), Object.keys(SPACE));
  for (const s of slices) {
    assert.ok(s.x.length > 0 && s.mean.length === s.x.length && s.std.length === s.x.length && s.acquisition.length === s.x.length);
    assert.ok([...s.mean, ...s.std, ...s.acquisition].every(Number.isFinite));
    assert.ok(s.std.every((v) => v >= 0));
  }
  assert.deepEqual(slices.find((s) => s.name === 'act')!.x, ['relu', 'tanh', 7]);
  assert.deepEqual(slices.find((s) => s.name === 'layers')!.x, [1, 2, 3, 4]);
  assert.equal(slices.find((s) => s.name === 'lr')!.log, true);
  assert.equal(slices.find((s) => s.name === 'lr')!.x.length, 20);
  assert.equal(await makeInProcess('random').slices(), null);
});

test('GP slices are in the objective units: the mean near an observed point is close to its value', async () => {
  const opt = makeInProcess('gp');
  const all = await drive(opt, [4, 2, 2]);
  const best = all.reduce((a, b) => (objective(a.params) <= objective(b.params) ? a : b));
  const slices = (await opt.slices(best.params, 5))!;
  const act = slices.find((s) => s.name === 'act')!;
  const at = act.x.indexOf(best.params.act as string | number);
  const v = objective(best.params);
  assert.ok(Math.abs(act.mean[at]! - v) < 0.1 * Math.abs(v) + 0.1 + 2 * act.std[at]!, `mean ${act.mean[at]} vs observed ${v}`);
});

test('GP: failed trials mark their region as bad without stretching the scale', async () => {
  const opt = build('gp', false, { space: { x: { type: 'float', low: 0, high: 1 } }, direction: 'maximize', seed: 2, initialTrials: 3 });
  // Values rise toward x = 1, but everything beyond 0.8 fails.
  for (const x of [0.05, 0.2, 0.35, 0.5, 0.6, 0.7]) await opt.addObservation({ x }, x);
  for (const x of [0.85, 0.9, 0.95, 1]) await opt.addObservation({ x }, null);
  const [slice] = (await opt.slices({ x: 0.5 }, 21))!;
  const at = (x: number) => slice!.mean[slice!.x.findIndex((v) => Math.abs((v as number) - x) < 1e-9)]!;
  assert.ok(at(0.95) < at(0.7), `mean in the failed region ${at(0.95)} should be below the best region ${at(0.7)}`);
  assert.ok(at(0.95) > -0.5, `imputation must stay near the observed scale (mean there ${at(0.95)}, worst observed 0.05)`);
  const [s] = await opt.ask(1);
  assert.ok((s!.params.x as number) < 0.85, `suggested ${s!.params.x} inside the failing region`);
});
