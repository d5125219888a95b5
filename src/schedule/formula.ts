// Compiles user schedule formulas with a private mathjs instance, allowing only arithmetic over t, step and totalSteps.
import { createRequire } from 'node:module';
import type { EvalFunction, MathJsInstance, MathNode } from 'mathjs';
import type { FormulaSchedule } from './types.js';
import { ConfigError } from '../errors.js';

let instance: MathJsInstance | undefined;

/**
 * The private mathjs instance, made on the first formula. Loading mathjs takes about a second, the largest part of
 * the CLI's start-up, and most commands (`studies`, `show`, `export`, a run of built-in ramps) never compile a formula.
 * A synchronous require keeps formula checks synchronous (the package ships a CommonJS build beside its ES modules).
 */
function mathjs(): MathJsInstance {
  if (!instance) {
    const { create, all } = createRequire(import.meta.url)('mathjs') as typeof import('mathjs');
    instance = create(all, { number: 'number' });
    // clamp is the one helper mathjs lacks that schedules need all the time ("ramp between two fractions").
    instance.import({ clamp: (x: number, lo: number, hi: number) => Math.min(Math.max(x, lo), hi) }, { override: true });
  }
  return instance;
}

export const FORMULA_VARIABLES = ['t', 'step', 'totalSteps'] as const;
const CONSTANTS = ['pi', 'e'];
export const FORMULA_FUNCTIONS = [
  'clamp', 'min', 'max', 'abs', 'sign', 'exp', 'log', 'log2', 'log10', 'sqrt', 'pow',
  'sin', 'cos', 'tan', 'tanh', 'floor', 'ceil', 'round',
] as const;
// Everything else (assignment, function definition, blocks, matrices, objects, accessors, ranges) is rejected:
// a formula is data that reaches the server from users, so it must not be able to define or reach anything.
const ALLOWED_NODES = new Set(['ConstantNode', 'SymbolNode', 'OperatorNode', 'ParenthesisNode', 'FunctionNode', 'ConditionalNode']);

export interface FormulaScope {
  t: number;
  step: number;
  totalSteps: number;
}

/**
 * Compiled formulas, least recently used first. scheduleAt compiles on every call, so the cache keeps training fast;
 * it is bounded because formulas arrive from users (every rejected enqueue used to stay compiled here for good).
 */
export const FORMULA_CACHE_SIZE = 256;
const cache = new Map<string, EvalFunction>();

function remember(expr: string, compiled: EvalFunction): void {
  cache.set(expr, compiled);
  if (cache.size > FORMULA_CACHE_SIZE) cache.delete(cache.keys().next().value!);
}

/**
 * Deepest expression tree accepted. mathjs walks, compiles and evaluates trees recursively, so a formula such as
 * `t+t+...+t` with 30,000 terms overflows the stack; real schedules nest a few levels.
 */
export const MAX_FORMULA_DEPTH = 200;
/**
 * Longest formula accepted. A compiled formula holds about 130 bytes per character (a 120 kB one, which fits in a
 * request body, held 7.8 MB and took 0.2 s to compile), so this is what keeps the bounded cache small.
 */
export const MAX_FORMULA_LENGTH = 2000;
const tooDeep = (field: string) =>
  new ConfigError(field, `nests deeper than ${MAX_FORMULA_DEPTH} levels`, 'simplify the formula (schedules need a few levels of nesting)');

/** Depth of the tree, walked with an explicit stack so that measuring a deep tree cannot overflow. */
function depthOver(root: MathNode, limit: number): boolean {
  const stack: Array<[MathNode, number]> = [[root, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (depth > limit) return true;
    node.forEach((child: MathNode) => stack.push([child, depth + 1]));
  }
  return false;
}

/** Parses and checks a formula; throws ConfigError naming `field` on syntax errors or anything outside the whitelist. */
export function compileFormula(expr: string, field: string): EvalFunction {
  const hit = cache.get(expr);
  if (hit) {
    // Move to the newest end, so the formulas of the trials being trained are the last to be dropped.
    cache.delete(expr);
    cache.set(expr, hit);
    return hit;
  }
  if (expr.length > MAX_FORMULA_LENGTH) {
    throw new ConfigError(field, `is ${expr.length} characters long; at most ${MAX_FORMULA_LENGTH} are allowed`, 'shorten the formula (schedules need a few dozen characters)');
  }
  let root: MathNode;
  try {
    root = mathjs().parse(expr);
  } catch (err) {
    if (err instanceof RangeError) throw tooDeep(field);
    throw new ConfigError(field, `syntax error in ${JSON.stringify(expr)}: ${(err as Error).message}`, 'write a mathjs expression such as "1 + 2 * clamp((t - 0.1) / 0.5, 0, 1)"');
  }
  if (depthOver(root, MAX_FORMULA_DEPTH)) throw tooDeep(field);
  root.traverse((node: MathNode, path: string) => {
    if (!ALLOWED_NODES.has(node.type)) {
      throw new ConfigError(field, `${node.type.replace(/Node$/, '').toLowerCase()} expressions are not allowed (${JSON.stringify(node.toString())})`, 'use only arithmetic, comparisons, ?: and the functions ' + FORMULA_FUNCTIONS.join(', '));
    }
    if (node.type === 'ConstantNode') {
      const value = (node as unknown as { value: unknown }).value;
      if (typeof value !== 'number') throw new ConfigError(field, `only numeric constants are allowed, got ${node.toString()}`, 'remove strings and other literals');
    }
    if (node.type === 'SymbolNode') {
      const name = (node as unknown as { name: string }).name;
      if (path === 'fn') {
        if (!(FORMULA_FUNCTIONS as readonly string[]).includes(name)) {
          throw new ConfigError(field, `unknown function '${name}'`, `use one of ${FORMULA_FUNCTIONS.join(', ')}`);
        }
      } else if (!(FORMULA_VARIABLES as readonly string[]).includes(name) && !CONSTANTS.includes(name)) {
        throw new ConfigError(field, `unknown symbol '${name}'`, `use the variables ${FORMULA_VARIABLES.join(', ')} (and constants pi, e)`);
      }
    }
    if (node.type === 'FunctionNode' && (node as unknown as { fn: MathNode }).fn.type !== 'SymbolNode') {
      throw new ConfigError(field, `only named functions can be called (${JSON.stringify(node.toString())})`, `use one of ${FORMULA_FUNCTIONS.join(', ')}`);
    }
  });
  const compiled = root.compile();
  remember(expr, compiled);
  return compiled;
}

/**
 * Whether any of a formula schedule's formulas (already accepted by compileFormula) reads `step` or `totalSteps`: such
 * a schedule does not stretch with the run as one over `t` does, so its values can only be checked at the length of
 * the run that will use it.
 */
export function usesRunLength(spec: FormulaSchedule): boolean {
  return [spec.rmax, spec.dmax, spec.rmin].some((expr) => expr !== undefined && mathjs().parse(expr).filter((node: MathNode, path: string) =>
    node.type === 'SymbolNode' && path !== 'fn' && ['step', 'totalSteps'].includes((node as unknown as { name: string }).name)).length > 0);
}

/** Evaluates a compiled formula; returns NaN for anything that is not a real number so callers have one check. */
export function evalFormula(compiled: EvalFunction, scope: FormulaScope): number {
  let value: unknown;
  try {
    value = compiled.evaluate({ ...scope });
  } catch {
    return Number.NaN;
  }
  return typeof value === 'number' ? value : Number.NaN;
}
