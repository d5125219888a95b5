// The bench's test functions and the held-out ones: each quoted optimum is attained at its minimizer and undercut nowhere on a dense random sample of its space.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../src/gp/rng.js';
import { EncodedSpace } from '../../../src/optimizer/space.js';
import { testFunctions, quickFunctions } from '../../../src/bench/bo/test_functions.js';
import { heldOutFunctions } from '../../../src/bench/bo/held_out_functions.js';

test('15 functions covering every group the issue asks for, the quick set a subset', () => {
  assert.ok(testFunctions.length >= 12);
  const groups = (g: string) => testFunctions.filter((f) => f.group === g).length;
  assert.ok(groups('smooth') >= 1 && groups('multimodal') >= 4 && groups('mixed') >= 1 && groups('noisy') >= 1);
  assert.ok(testFunctions.some((f) => f.group === 'high-dim' && Object.keys(f.space).length >= 10));
  assert.ok(testFunctions.some((f) => Object.values(f.space).some((s) => s.type === 'int')) && testFunctions.some((f) => Object.values(f.space).some((s) => s.type === 'categorical')));
  for (const f of quickFunctions) assert.ok(testFunctions.includes(f));
  assert.equal(new Set(testFunctions.map((f) => f.name)).size, testFunctions.length);
});

test('9 held-out functions, every group again, each name new', () => {
  const groups = new Set(heldOutFunctions.map((f) => f.group));
  assert.deepEqual([...groups].sort(), ['high-dim', 'mixed', 'multimodal', 'noisy', 'smooth']);
  const names = new Set([...testFunctions, ...heldOutFunctions].map((f) => f.name));
  assert.equal(names.size, testFunctions.length + heldOutFunctions.length);
});

for (const fn of [...testFunctions, ...heldOutFunctions]) {
  test(`${fn.name}: f(minimizer) = optimum, and 20,000 random points never go below it`, () => {
    const space = new EncodedSpace(fn.space);
    assert.doesNotThrow(() => space.validateParams(fn.minimizer), 'the minimizer must be a point of the space');
    assert.ok(Math.abs(fn.f(fn.minimizer) - fn.optimum) < 1e-5 * Math.max(1, Math.abs(fn.optimum)), `f(minimizer) = ${fn.f(fn.minimizer)}, optimum ${fn.optimum}`);
    const rng = new Rng(17);
    for (let i = 0; i < 20000; i++) {
      const p = space.decode(space.sampleUniform(rng));
      assert.ok(fn.f(p) >= fn.optimum - 1e-9, `${JSON.stringify(p)} gives ${fn.f(p)} < optimum ${fn.optimum}`);
    }
  });
}
