// What a command loads: those that never compile a schedule formula must not pay for mathjs (about a second).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const probe = fileURLToPath(new URL('../fixtures/module_probe.js', import.meta.url));
const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const formula = new URL('../../src/schedule/formula.js', import.meta.url).href;

/** The modules `node <args>` loaded, one path or URL each. */
function loadedBy(args: string[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'renorm-probe-'));
  try {
    const file = join(dir, 'loaded.txt');
    const r = spawnSync(process.execPath, ['--import', probe, ...args], { env: { ...process.env, RENORM_MODULE_PROBE: file }, encoding: 'utf8' });
    assert.equal(r.error, undefined);
    return readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const mathjs = (mods: string[]) => mods.filter((m) => /[/\\]node_modules[/\\]mathjs[/\\]/.test(m));

test('studies, show and export do not load mathjs; compiling a formula does (the probe sees it)', () => {
  const db = join(tmpdir(), `renorm-no-such-${process.pid}.db`);
  for (const cmd of ['studies', 'show', 'export']) {
    const mods = loadedBy([main, cmd, ...(cmd === 'studies' ? [] : ['s']), '--db', db]);
    assert.ok(mods.some((m) => m.includes('commander')), `${cmd}: the probe saw nothing (${mods.length} modules)`);
    assert.deepEqual(mathjs(mods), [], `${cmd} loaded mathjs: keep it behind the formula compiler's first use (src/schedule/formula.ts)`);
  }
  const compiled = loadedBy(['--input-type=module', '-e', `const f = await import(${JSON.stringify(formula)}); f.compileFormula('1 + t', 'rmax');`]);
  assert.ok(mathjs(compiled).length > 0, 'compiling a formula loaded no mathjs module: the probe is blind to how it is loaded');
});
