// `renorm-tune bench bo`: optimizer quality (GP vs Optuna TPE vs random search regret) and ask latency.
import type { Command } from 'commander';
import { ConfigError } from '../errors.js';
import { benchBo } from '../bench/bo/bench.js';

function positiveInt(field: string) {
  return (raw: string): number => {
    const v = Number(raw);
    if (!Number.isInteger(v) || v < 1) throw new ConfigError(field, `must be a positive integer, got '${raw}'`, `e.g. ${field} 5`);
    return v;
  };
}

export function register(bench: Command): void {
  bench
    .command('bo')
    .description('GP optimizer vs Optuna TPE (when /usr/bin/python3 has optuna) vs random search on Branin, Hartmann3/6, Rosenbrock-4, Ackley-5 (median/quartile regret), and ask latency after 50..400 observations beside scikit-learn\'s GP fit (when installed)')
    .option('--seeds <n>', 'seeds per function (default 5, quick 2)', positiveInt('--seeds'))
    .option('--evals <n>', 'evaluations per run (default 60, quick 30)', positiveInt('--evals'))
    .option('--quick', 'fast smoke run: Branin and Hartmann6 only, latency up to 100 observations')
    .option('--no-optuna', 'skip the Optuna TPE side-by-side runs')
    .option('--no-sklearn', "skip timing scikit-learn's GP fit beside the ask latency table")
    .option('--json', 'print a JSON summary as the last line')
    .action(async (opts: { seeds?: number; evals?: number; quick?: boolean; optuna: boolean; sklearn: boolean; json?: boolean }) => {
      const quick = opts.quick ?? false;
      const log = (line: string) => process.stdout.write(`${line}\n`);
      const r = await benchBo({ seeds: opts.seeds ?? (quick ? 2 : 5), evals: opts.evals ?? (quick ? 30 : 60), quick, optuna: opts.optuna, sklearn: opts.sklearn, log });
      if (opts.json) log(JSON.stringify(r));
    });
}
