#!/usr/bin/env node
// CLI entry: registers the command being run (loading only its module), then lets commander parse the arguments.
import { Command, CommanderError } from 'commander';
import { modulesFor } from './commands.js';
import { EXIT_NO_RETRY, exitStatusOf } from './exit_status.js';
import { PACKAGE_VERSION } from '../version.js';

async function main(argv: string[]): Promise<void> {
  const program = new Command('renorm-tune')
    .description('Tune Batch Renormalization schedules with Bayesian optimization')
    .version(PACKAGE_VERSION)
    // Commander ends a bad command line (an unknown flag, a missing value, an extra argument) with exit 1 itself,
    // which a supervisor reads as "try again": a typo in a unit's arguments restarted its worker forever. Its
    // error is thrown instead (commands made below inherit this), and ends the CLI as any other refused flag does.
    .exitOverride();
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
  // Commander said it already (the error, or the help or version asked for).
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? 0 : EXIT_NO_RETRY;
    return;
  }
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = exitStatusOf(err);
});
