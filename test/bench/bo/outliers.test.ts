// bench bo's outlier section: the diverging region is where it says, and each row is the median of the runs it names.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAGNITUDES, outliers, withDivergingRegion } from '../../../src/bench/bo/outliers.js';
import { benchGp, runOnFunction } from '../../../src/bench/bo/regret.js';
import { branin, hartmann3 } from '../../../src/bench/bo/test_functions.js';

test('withDivergingRegion: the top 15% of the first parameter returns the magnitude, everything else the function', () => {
  const f = withDivergingRegion(branin, 1e30);
  // branin's x0 spans [-5, 10]: the region is x0 > 7.75.
  assert.equal(f.f({ x0: 7.8, x1: 3 }), 1e30);
  assert.equal(f.f({ x0: 7.7, x1: 3 }), branin.f({ x0: 7.7, x1: 3 }));
  assert.equal(f.optimum, branin.optimum, 'the optimum (x0 = pi, x1 = 2.275) lies outside the region');
  assert.ok(branin.f({ x0: Math.PI, x1: 2.275 }) - branin.optimum < 1e-5);
  assert.throws(() => withDivergingRegion({ ...hartmann3, space: { c: { type: 'categorical', choices: ['a', 'b'] } } }, 1), /first parameter must be a float/);
});

test('outliers: a row per magnitude and the clean function, each the median of the seeds run the same way', async () => {
  const lines: string[] = [];
  const rows = await outliers([branin], 1, 12, (l) => lines.push(l));
  assert.deepEqual(rows.map((r) => r.magnitude), [null, ...MAGNITUDES]);
  const fn = withDivergingRegion(branin, 1e30);
  const direct = (await runOnFunction(benchGp(fn, 0), fn, 0, 12, 1)).final;
  const plain = (await runOnFunction(benchGp(fn, 0, { outputTails: false }), fn, 0, 12, 1)).final;
  assert.equal(rows[2]!.compressed, direct);
  assert.equal(rows[2]!.plain, plain);
  assert.equal(lines.length, 3);
});
