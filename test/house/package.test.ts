// What `npm pack` ships (the files list), and that a TypeScript consumer compiles against the packed types with only our dependencies installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; bin: Record<string, string> };
const require = createRequire(join(ROOT, 'package.json'));

/** Every file below `dir` (relative to the root), as npm names them. */
function walk(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(ROOT, join(e.parentPath, e.name)).split(sep).join('/'));
}

function npm(args: string[], cwd = ROOT): string {
  return execFileSync('npm', args, { cwd, encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'pipe'] });
}

test('npm pack ships the built code, the dashboard pages, configs, the Python client (with its pyproject.toml), the README and the license: no tests, sources, maps or CI', () => {
  const [info] = JSON.parse(npm(['pack', '--dry-run', '--json', '--ignore-scripts'])) as [{ files: { path: string }[]; entryCount: number }];
  const files = info.files.map((f) => f.path);
  for (const want of [
    'package.json', 'README.md', 'LICENSE', 'dist/src/index.js', 'dist/src/index.d.ts', pkg.bin['renorm-tune']!.replace(/^\.\//, ''), 'dist/workers/trial.js',
    'dist/dashboard/study.js', 'dashboard/index.html', 'dashboard/study.html', 'dashboard/style.css', 'configs/quick.json',
    'configs/schemas/study-config.schema.json', 'configs/schemas/schedule-export.schema.json', 'src/clients/python/renorm_tune.py',
    'src/clients/python/pyproject.toml', 'src/bench/bo/optuna_tpe.py', 'dist/src/shared/ramp.js',
  ]) assert.ok(files.includes(want), `the package lacks ${want}`);
  const stray = files.filter((f) => /^(test|dist\/test|\.ci|node_modules)\//.test(f) || f.endsWith('.map') || (f.startsWith('src/') && !/\.py$|^src\/clients\/python\/pyproject\.toml$/.test(f)) || f.endsWith('.db'));
  assert.deepEqual(stray, [], 'files that have no business in the package');
  // Exactly what the files list names, nothing more: the built code (no maps), the pages, configs and Python files.
  const expected = [
    ...['dist/src', 'dist/workers', 'dist/dashboard'].flatMap((d) => walk(d)).filter((f) => !f.endsWith('.map')),
    ...walk('configs'), ...walk('src/bench').filter((f) => f.endsWith('.py')),
    'dashboard/index.html', 'dashboard/study.html', 'dashboard/style.css', 'src/clients/python/renorm_tune.py', 'src/clients/python/pyproject.toml', 'README.md', 'LICENSE', 'package.json',
  ];
  assert.deepEqual([...files].sort(), [...new Set(expected)].sort());
  assert.equal(info.entryCount, files.length);
});

test('a TypeScript consumer compiles against the packed types with our dependencies alone (strict, skipLibCheck off)', { timeout: 240_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'renorm-consumer-'));
  try {
    const [packed] = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', dir])) as [{ filename: string }];
    const modules = join(dir, 'node_modules');
    mkdirSync(join(modules, 'renorm-tune'), { recursive: true });
    execFileSync('tar', ['-xzf', join(dir, packed.filename), '-C', join(modules, 'renorm-tune'), '--strip-components=1']);
    // What `npm install renorm-tune` gives a consumer: our dependencies (and @types/node, which any Node TypeScript project has).
    const link = (name: string) => {
      const target = realpathSync(join(ROOT, 'node_modules', name));
      mkdirSync(dirname(join(modules, name)), { recursive: true });
      symlinkSync(target, join(modules, name), 'dir');
    };
    for (const name of [...Object.keys(pkg.dependencies), '@types/node']) link(name);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: false, noEmit: true, types: ['node'], lib: ['ES2022', 'DOM'] },
      files: ['index.ts'],
    }));
    writeFileSync(join(dir, 'index.ts'), `
import { scheduleAt, scheduleTable, createServer, createApp, StudyService, SqliteStorage, MemoryStorage, createStudyService, validateStudyConfig,
  BatchRenormalization, BayesianOptimizer, type AskedTrial, type StudyApi, type ExportedSchedule, type Clipping } from 'renorm-tune';
const service: StudyApi = createStudyService(new MemoryStorage());
const trial: AskedTrial | undefined = undefined;
const c: Clipping = scheduleAt({ kind: 'paper' }, 10, 100);
const rows: number = scheduleTable({ kind: 'paper' }, 100).length;
const app = createApp(service);
app.get('/mine', (_req, res) => { res.json({ c, rows }); });
void createServer; void StudyService; void SqliteStorage; void validateStudyConfig; void BatchRenormalization; void BayesianOptimizer;
export type { ExportedSchedule };
export { trial };
`);
    const tsc = require.resolve('typescript/bin/tsc');
    // TF.js's own declarations do not pass a strict check (their problem, and why consumers usually skip lib checks):
    // only errors in our package or in the consumer's file count.
    const ours = () => {
      const out = spawnSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8', cwd: dir });
      return out.stdout.split('\n').filter((l) => /^(node_modules\/renorm-tune\/|index\.ts)/.test(l));
    };
    assert.deepEqual(ours(), [], 'our published types must compile with our dependencies alone');
    // And the check can fail: the @types of express, better-sqlite3 and pg are dependencies because the public
    // declarations use them (createApp hands out an express app; the storages name their drivers' types).
    rmSync(join(modules, '@types', 'express'));
    rmSync(join(modules, '@types', 'better-sqlite3'));
    const without = ours().join('\n');
    assert.match(without, /'express'/, 'compiled even without @types/express: the check proves nothing');
    assert.match(without, /'better-sqlite3'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
