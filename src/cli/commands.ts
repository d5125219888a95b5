// Which module registers which CLI command, so the entry point loads only the one being run (TF.js, express and mathjs take seconds).

import type { Command } from 'commander';

export interface CommandModule {
  /** `program` for top-level commands, `bench` for the benchmark sub-commands. */
  parent: 'program' | 'bench';
  /** The command names the module's `register` defines (a test checks they match). */
  commands: string[];
  load: () => Promise<{ register(parent: Command): void }>;
}

/** In help order. */
export const COMMAND_MODULES: CommandModule[] = [
  { parent: 'program', commands: ['train'], load: () => import('./train.js') },
  { parent: 'bench', commands: ['train'], load: () => import('./bench_train.js') },
  { parent: 'bench', commands: ['bo', 'bo-reference'], load: () => import('./bench_bo.js') },
  { parent: 'bench', commands: ['service'], load: () => import('./bench_service.js') },
  { parent: 'bench', commands: ['distributed'], load: () => import('./bench_distributed.js') },
  { parent: 'program', commands: ['run'], load: () => import('./run.js') },
  { parent: 'program', commands: ['worker'], load: () => import('./worker.js') },
  { parent: 'program', commands: ['queue'], load: () => import('./queue.js') },
  { parent: 'program', commands: ['serve', 'studies', 'show', 'export'], load: () => import('./study.js') },
  { parent: 'program', commands: ['create', 'extend', 'stop', 'resume', 'rename', 'delete', 'enqueue'], load: () => import('./manage.js') },
  { parent: 'program', commands: ['copy'], load: () => import('./copy.js') },
  { parent: 'program', commands: ['doctor'], load: () => import('./doctor.js') },
];

/**
 * The modules `argv` needs: the one owning the named command (or bench sub-command), else every module of that
 * level, so help, `help <cmd>` and commander's suggestions for a mistyped command still see everything.
 */
export function modulesFor(argv: string[]): CommandModule[] {
  const [first, second] = argv.slice(2);
  const owns = (m: CommandModule) =>
    m.parent === 'program' ? m.commands.includes(first ?? '') : first === 'bench' && m.commands.includes(second ?? '');
  const named = COMMAND_MODULES.filter(owns);
  if (named.length > 0) return named;
  return first === 'bench' ? COMMAND_MODULES.filter((m) => m.parent === 'bench') : COMMAND_MODULES;
}
