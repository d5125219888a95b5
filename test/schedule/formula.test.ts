// Formula compilation: hostile formulas (too long, too deeply nested) are refused with a ConfigError naming the field, never a crash,
// and the cache of compiled formulas stays bounded however many distinct formulas users send.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/errors.js';
import { compileFormula, evalFormula, FORMULA_CACHE_SIZE, MAX_FORMULA_DEPTH, MAX_FORMULA_LENGTH } from '../../src/schedule/formula.js';

function refusedAsTooDeep(expr: string): void {
  assert.throws(
    () => compileFormula(expr, 'schedule.rmax'),
    (err: unknown) => err instanceof ConfigError && err.field === 'schedule.rmax' && /nests deeper than/.test(err.message),
    `a formula of ${expr.length} characters nested past ${MAX_FORMULA_DEPTH} levels must be a ConfigError naming schedule.rmax, not a stack overflow`,
  );
}

test('nesting past the depth limit is refused as too deep: chained operators, parentheses, calls, unary minus', () => {
  refusedAsTooDeep(Array(600).fill('t').join('+'));
  refusedAsTooDeep(`${'('.repeat(900)}t${')'.repeat(900)}`);
  refusedAsTooDeep(`${'sqrt('.repeat(300)}t${')'.repeat(300)}`);
  refusedAsTooDeep(`${'-'.repeat(1900)}t`);
});

test('a formula longer than MAX_FORMULA_LENGTH is refused before it is parsed (t+t+...+t, 30,000 terms, overflowed the stack)', () => {
  for (const expr of [Array(30_000).fill('t').join('+'), `max(${'t,'.repeat(60_000)}t)`, `1 + t${' '.repeat(MAX_FORMULA_LENGTH)}`]) {
    assert.throws(
      () => compileFormula(expr, 'schedule.dmax'),
      (err: unknown) => err instanceof ConfigError && err.field === 'schedule.dmax' && new RegExp(`${expr.length} characters long; at most ${MAX_FORMULA_LENGTH}`).test(err.message),
      `a formula of ${expr.length} characters must be refused naming schedule.dmax and the limit`,
    );
  }
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
