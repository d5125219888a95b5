// Parameter importance from the optimizers: inert parameters (continuous, integer, categorical) get < 0.05, on the GP's own history and on random search's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOptimizer } from '../../src/optimizer/factory.js';
import type { SearchSpace } from '../../src/optimizer/space.js';
import type { OptimizerKind, Params } from '../../src/optimizer/types.js';

const SPACE: SearchSpace = {
  lr: { type: 'float', low: 1e-4, high: 1, log: true },
  inert1: { type: 'float', low: -3, high: 3 },
  depth: { type: 'int', low: 1, high: 8 },
  inert2: { type: 'int', low: 0, high: 100 },
  act: { type: 'categorical', choices: ['relu', 'tanh', 'gelu'] },
  inert3: { type: 'categorical', choices: ['a', 'b', 'c', 'd'] },
  inert4: { type: 'float', low: 0, high: 1 },
};
const INERT = ['inert1', 'inert2', 'inert3', 'inert4'];

/** Depends on lr (log scale), depth and act only. */
function objective(p: Params): number {
  return (Math.log10(p.lr as number) + 2.5) ** 2 + 0.3 * ((p.depth as number) - 5) ** 2 + (p.act === 'gelu' ? 0 : 1.5);
}

for (const kind of ['gp', 'random'] as OptimizerKind[]) {
  test(`${kind}: inert parameters get importance < 0.05, the active ones the rest`, async () => {
    const opt = createOptimizer(kind, { space: SPACE, direction: 'minimize', seed: 11 });
    for (let i = 0; i < 40; i++) {
      const [s] = await opt.ask(1);
      await opt.tell(s!.id, objective(s!.params));
    }
    const imp = (await opt.importance())!;
    const detail = JSON.stringify(Object.fromEntries(Object.entries(imp).map(([k, v]) => [k, Number(v.toFixed(4))])));
    for (const name of INERT) assert.ok(imp[name]! < 0.05, `${kind}: ${name} is inert but got ${imp[name]} (${detail})`);
    for (const name of ['lr', 'depth', 'act']) assert.ok(imp[name]! > 0.1, `${kind}: ${name} matters but got ${imp[name]} (${detail})`);
  });
}
