// Dependency rules of the house, checked on the import statements of src/, workers/ and dashboard/ (type-only imports are free).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ImportGraph, describeChain, describeEdge, importsOf, sourceFiles } from './import_graph.js';

const graph = new ImportGraph(sourceFiles('src', 'workers', 'dashboard'));
const under = (dir: string) => (file: string) => file.startsWith(`${dir}/`);

test('the reader tells run-time imports from type-only ones, resolves paths and sees dynamic imports', () => {
  const got = importsOf('test/house/fixtures/import_forms.ts').map((e) => [e.to, e.runtime, e.dynamic]);
  assert.deepEqual(got, [
    ['src/schedule/types.ts', false, false], // import type { ... }
    ['src/shared/names.ts', false, false], // import { type A }
    ['src/shared/names.ts', true, false], // import { A, type B }
    ['src/shared/ramp.ts', true, false], // import 'x' (side effects)
    ['node:fs', true, false],
    ['src/train/scenario.ts', false, false], // export type { ... } from
    ['src/schedule/types.ts', false, false], // export { type A } from
    ['src/config/fields.ts', true, false], // export * from
    ['src/errors.ts', true, true], // import('x')
  ]);
});

test('the optimizer and the GP numerics import nothing from the packages above them (no study <-> optimizer cycle)', () => {
  const above = ['src/study', 'src/server', 'src/cli', 'src/data', 'src/train', 'src/engine', 'src/bench'];
  const bad = graph.edges.filter((e) => (under('src/optimizer')(e.from) || under('src/gp')(e.from)) && above.some((d) => under(d)(e.to)));
  assert.deepEqual(bad.map(describeEdge), [],
    'src/optimizer and src/gp own their vocabulary (Params, Direction, GpSlice...) and the study depends on them, never the reverse, ' +
    'not even for types. Move the name you need into src/optimizer (or src/shared if the dashboard needs it too) and import it from there in src/study.');
  assert.ok(graph.edges.some((e) => under('src/study')(e.from) && under('src/optimizer')(e.to)), 'the rule above is vacuous if the study no longer uses the optimizer');
});

test('validating a study config (src/study/config.ts) loads no TF.js and no engine module', () => {
  const closure = graph.runtimeClosure('src/study/config.ts');
  const forbidden = (m: string) => m.startsWith('@tensorflow/') || under('src/engine')(m);
  // Only the first step into forbidden ground: that is the import to change.
  const entries = [...closure.values()].filter((chain) => chain.length > 0 && forbidden(chain[chain.length - 1]!.to) && !forbidden(chain[chain.length - 1]!.from));
  assert.deepEqual(entries.map(describeChain), [],
    'the CLI and the server validate study configs before any trainer exists, and loading TF.js takes seconds. ' +
    'Break the chain: move what validation needs into a pure module (see src/config/model_spec.ts, src/train/scenario.ts) or make the import `import type`.');
  assert.ok(closure.has('src/train/scenario.ts'), 'the closure should include the scenario validator; the reader may be broken');
});

test('nothing in src/study or src/server loads TF.js or the engine at run time (trials train in workers/)', () => {
  const forbidden = (m: string) => m.startsWith('@tensorflow/') || under('src/engine')(m);
  const found = new Map<string, string>();
  for (const file of graph.edges.map((e) => e.from).filter((f) => under('src/study')(f) || under('src/server')(f))) {
    for (const chain of graph.runtimeClosure(file).values()) {
      const last = chain[chain.length - 1];
      if (last && forbidden(last.to) && !forbidden(last.from)) found.set(`${last.from}:${last.line}`, describeChain(chain));
    }
  }
  assert.deepEqual([...found.values()], [],
    'the service, the runner and the executor run in the main process, which must start fast and stay small; the trainer ' +
    'and TF.js load only in worker threads (workers/trial.ts). Use `import type` for the trainer\'s types, or move pure code out of src/engine and src/train/trainer.');
});

test('src/shared imports nothing at run time from outside src/shared (it is served to the browser as is)', () => {
  const bad = graph.edges.filter((e) => under('src/shared')(e.from) && e.runtime && !under('src/shared')(e.to));
  assert.deepEqual(bad.map(describeEdge), [],
    'the dashboard loads src/shared in the browser without a bundler: no Node built-ins, no packages, no other src/ module. ' +
    'Keep shared modules self-contained; `import type` is fine.');
});

test('the dashboard imports at run time only from dashboard/ and src/shared/', () => {
  const bad = graph.edges.filter((e) => under('dashboard')(e.from) && e.runtime && !under('dashboard')(e.to) && !under('src/shared')(e.to));
  assert.deepEqual(bad.map(describeEdge), [],
    'browser code can only load what the server serves: dashboard/ and src/shared/. Move the constant or formula you need into ' +
    'src/shared (one home for server and browser), or use `import type` for types.');
});
