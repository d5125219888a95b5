// Formula compilation: hostile formulas (deep nesting) are refused with a ConfigError naming the field, never a crash,
// and the cache of compiled formulas stays bounded however many distinct formulas users send.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/errors.js';
import { compileFormula, evalFormula, FORMULA_CACHE_SIZE, MAX_FORMULA_DEPTH } from '../../src/schedule/formula.js';

function refusedAsTooDeep(expr: string): void {
  assert.throws(
    () => compileFormula(expr, 'schedule.rmax'),
    (err: unknown) => err instanceof ConfigError && err.field === 'schedule.rmax' && /nests deeper than/.test(err.message),
    `a formula of ${expr.length} characters nested far past ${MAX_FORMULA_DEPTH} levels must be a ConfigError naming schedule.rmax, not a stack overflow`,
  );
}

test('a long chain of operators (t+t+...+t, 30,000 terms) is refused as too deep, not a stack overflow', () => {
  refusedAsTooDeep(Array(30_000).fill('t').join('+'));
});

test('deeply nested parentheses, function calls and unary minus are refused as too deep', () => {
  refusedAsTooDeep(`${'('.repeat(5000)}t${')'.repeat(5000)}`);
  refusedAsTooDeep(`${'sqrt('.repeat(2000)}t${')'.repeat(2000)}`);
  refusedAsTooDeep(`${'-'.repeat(50_000)}t`);
});

test('a formula just inside the depth limit still compiles and evaluates', () => {
  const expr = Array(MAX_FORMULA_DEPTH - 1).fill('t').join('+');
  assert.equal(evalFormula(compileFormula(expr, 'schedule.rmax'), { t: 1, step: 10, totalSteps: 10 }), MAX_FORMULA_DEPTH - 1);
});

test('the compiled-formula cache is bounded: after FORMULA_CACHE_SIZE other formulas, the first is compiled anew', () => {
  const first = compileFormula('1 + t / 3', 'schedule.rmax');
  assert.equal(compileFormula('1 + t / 3', 'schedule.rmax'), first, 'a repeated formula is served from the cache');
  // Each of these is what a rejected enqueue leaves behind (rmax < 1): compiled, then refused by validation.
  for (let i = 0; i < 2 * FORMULA_CACHE_SIZE; i++) compileFormula(`0.5 + t * ${i}e-9`, 'schedule.rmax');
  assert.notEqual(compileFormula('1 + t / 3', 'schedule.rmax'), first, `the cache kept a formula past ${2 * FORMULA_CACHE_SIZE} newer ones: it grows without bound`);
});

test('a formula in use stays cached while many others pass through', () => {
  const hot = compileFormula('1 + t / 7', 'schedule.rmax');
  for (let i = 0; i < 2 * FORMULA_CACHE_SIZE; i++) {
    compileFormula(`0.25 + t * ${i}e-9`, 'schedule.rmax');
    assert.equal(compileFormula('1 + t / 7', 'schedule.rmax'), hot, `the formula in use was dropped after ${i + 1} others`);
  }
});
