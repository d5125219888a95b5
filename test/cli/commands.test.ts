// The CLI's command table: each module registers exactly the commands listed for it, and argv picks the right modules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { COMMAND_MODULES, modulesFor } from '../../src/cli/commands.js';

test('every module registers exactly the commands the table lists for it', async () => {
  for (const m of COMMAND_MODULES) {
    const parent = new Command('parent');
    (await m.load()).register(parent);
    assert.deepEqual(parent.commands.map((c) => c.name()), m.commands,
      `src/cli/commands.ts lists ${JSON.stringify(m.commands)} under ${m.parent}; update the table when a command module changes what it registers`);
  }
});

test('argv loads only the module of the named command; help, bench alone and unknown commands load every module of that level', () => {
  const picked = (...args: string[]) => modulesFor(['node', 'main.js', ...args]).map((m) => `${m.parent}:${m.commands[0]}`);
  assert.deepEqual(picked('studies', '--db', 'x.db'), ['program:serve']);
  assert.deepEqual(picked('run', 'configs/quick.json'), ['program:run']);
  assert.deepEqual(picked('train', 'c.json'), ['program:train']);
  assert.deepEqual(picked('bench', 'bo'), ['bench:bo']);
  assert.deepEqual(picked('bench'), ['bench:train', 'bench:bo', 'bench:service', 'bench:distributed']);
  assert.deepEqual(picked('bench', 'nope'), ['bench:train', 'bench:bo', 'bench:service', 'bench:distributed']);
  const all = COMMAND_MODULES.map((m) => `${m.parent}:${m.commands[0]}`);
  for (const args of [[], ['--help'], ['help', 'studies'], ['stduies']]) assert.deepEqual(picked(...args), all, JSON.stringify(args));
});
