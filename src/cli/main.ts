#!/usr/bin/env node
// CLI entry: registers the command being run (loading only its module), then lets commander parse the arguments.
import { Command } from 'commander';
import { modulesFor } from './commands.js';
import { exitStatusOf } from './exit_status.js';
import { PACKAGE_VERSION } from '../version.js';

async function main(argv: string[]): Promise<void> {
  const program = new Command('renorm-tune')
    .description('Tune Batch Renormalization schedules with Bayesian optimization')
    .version(PACKAGE_VERSION);
  let bench: Command | undefined;
  const wanted = modulesFor(argv);
  const loaded = await Promise.all(wanted.map((m) => m.load()));
  wanted.forEach((m, i) => {
    if (m.parent === 'bench') bench ??= program.command('bench').description('Benchmarks: trainer throughput, optimizer quality and latency');
    loaded[i]!.register(m.parent === 'bench' ? bench! : program);
  });
  await program.parseAsync(argv);
}

main(process.argv).catch((err: unknown) => {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = exitStatusOf(err);
});
