// `renorm-tune bench bo`: optimizer quality (GP vs Optuna TPE vs random search regret, ablations), ask latency, event-loop responsiveness, mathjs.
import type { Command } from 'commander';
import { ConfigError, DataError } from '../errors.js';
import { BATCH_STRATEGIES, type BatchStrategy } from '../optimizer/types.js';
import { list, nonNegativeInt, positiveInt } from './options.js';
import { benchBo, SECTIONS, type Section } from '../bench/bo/bench.js';
import { readTextFile } from '../config/read_text.js';
import { parseReferenceRuns, referenceReport, referenceRows } from '../bench/bo/reference.js';
import { outlierFunctions, quickFunctions, testFunctions, type TestFunction } from '../bench/bo/test_functions.js';
import { heldOutFunctions } from '../bench/bo/held_out_functions.js';

const known = [...testFunctions, ...heldOutFunctions];
const fnList = list<TestFunction>('--functions', (s) => known.find((f) => f.name === s)!, known.map((f) => f.name));

function batchMethod(raw: string): BatchStrategy {
  const s = raw.trim() as BatchStrategy;
  if (!BATCH_STRATEGIES.includes(s)) throw new ConfigError('--batch-method', `unknown value '${raw}'`, `use one of ${BATCH_STRATEGIES.join(', ')}`);
  return s;
}

export function register(bench: Command): void {
  bench
    .command('bo')
    .description(
      'GP optimizer vs Optuna multivariate TPE (when /usr/bin/python3 has optuna) vs random search on 15 functions (smooth, multimodal, mixed, ' +
        '10-D+ with inert dims, noisy) at batch 1 and 4: median/quartile regret and win counts; ablations; ask latency beside scikit-learn\'s GP fit; ' +
        '/health latency during 2,000-trial asks in process vs in a worker thread; mathjs vs typed-array GP step',
    )
    .option('--seeds <n>', 'seeds per function (default 10, quick 3)', positiveInt('--seeds'))
    .option('--first-seed <n>', 'first seed (default 0): --first-seed 10 replicates the bench on seeds 10-19', nonNegativeInt('--first-seed'))
    .option('--evals <n>', 'evaluations per run (default 60)', positiveInt('--evals'))
    .option('--quick', `fast run: ${quickFunctions.map((f) => f.name).join(', ')}; 3 seeds; latency up to 200 observations; n = 1000 for the large ask; no speedup, ablation or outlier runs`)
    .option('--functions <names>', 'comma-separated test functions (default all, or the quick set; held-out ones too)', fnList)
    .option('--held-out', `run the ${heldOutFunctions.length} held-out functions (${heldOutFunctions.map((f) => f.name).join(', ')}; src/bench/bo/held_out_functions.ts: never tuned on) instead of the bench's ${testFunctions.length}`)
    .option('--batches <sizes>', 'comma-separated batch sizes (default 1,4)', list('--batches', positiveInt('--batches')))
    .option('--sections <names>', `comma-separated parts to run (default all: ${SECTIONS.join(', ')})`, list<Section>('--sections', (s) => s as Section, SECTIONS))
    .option('--ablation-seeds <n>', 'seeds per ablation variant and outlier run (default 5)', positiveInt('--ablation-seeds'))
    .option('--batch-method <name>', `the GP's batch strategy in the regret section (${BATCH_STRATEGIES.join(', ')}; default the optimizer's)`, batchMethod)
    .option('--asynchronous', 'in the regret section, keep a batch in flight: after the first ask of q, each told trial is followed by an ask of 1 with q - 1 pending, as the runner asks when a worker frees up (the GP and TPE alike)')
    .option('--no-optuna', 'skip the Optuna TPE side-by-side runs')
    .option('--optuna-python <path>', "the Python interpreter whose optuna runs TPE (default /usr/bin/python3, Debian's python3-optuna); e.g. a virtual environment's bin/python with a newer Optuna")
    .option('--no-sklearn', "skip timing scikit-learn's GP fit beside the ask latency")
    .option('--json', 'print a JSON summary as the last line')
    .action(async (opts: {
      seeds?: number; firstSeed?: number; evals?: number; quick?: boolean; functions?: TestFunction[]; heldOut?: boolean; batches?: number[]; sections?: Section[];
      ablationSeeds?: number; batchMethod?: BatchStrategy; asynchronous?: boolean; optuna: boolean; optunaPython?: string; sklearn: boolean; json?: boolean;
    }) => {
      const quick = opts.quick ?? false;
      const log = (line: string) => process.stdout.write(`${line}\n`);
      if (opts.heldOut && opts.functions) throw new ConfigError('--held-out', 'cannot be given with --functions', 'give one of them (held-out names are accepted by --functions)');
      const chosen = opts.functions ?? (opts.heldOut ? heldOutFunctions : undefined);
      const functions = chosen ?? (quick ? quickFunctions : testFunctions);
      const r = await benchBo({
        functions,
        seeds: opts.seeds ?? (quick ? 3 : 10),
        firstSeed: opts.firstSeed ?? 0,
        evals: opts.evals ?? 60,
        batches: opts.batches ?? [1, 4],
        sections: opts.sections ?? (quick ? SECTIONS.filter((s) => s !== 'ablation' && s !== 'outliers' && s !== 'speedup') : [...SECTIONS]),
        ...(opts.batchMethod ? { batchMethod: opts.batchMethod } : {}),
        ...(opts.asynchronous ? { pacing: 'asynchronous' as const } : {}),
        optuna: opts.optuna,
        ...(opts.optunaPython ? { optunaPython: opts.optunaPython } : {}),
        sklearn: opts.sklearn,
        ablationFunctions: chosen ?? quickFunctions,
        outlierFunctions: (chosen ?? outlierFunctions).filter((f) => Object.values(f.space)[0]?.type === 'float'),
        ablationSeeds: opts.ablationSeeds ?? 5,
        latencySizes: quick ? [100, 200] : [100, 200, 400],
        largeN: quick ? 1000 : 2000,
        log,
      });
      if (opts.json) log(JSON.stringify(r));
    });
  bench
    .command('bo-reference')
    .description(
      "the batch target read off an outside reference's runs (src/bench/bo/batch_reference.py's JSON lines, e.g. BoTorch on a machine that has it): " +
        'median regret asking 1 and 4 at a time per function, and their ratio with the bootstrap interval `bench bo` gives ours',
    )
    .argument('<file>', 'the JSON-lines file batch_reference.py appended its runs to')
    .option('--evals <n>', 'read the regret after this many evaluations (default the runs\' length)', positiveInt('--evals'))
    .option('--json', 'print the rows as JSON as the last line')
    .action(async (file: string, opts: { evals?: number; json?: boolean }) => {
      const text = readTextFile(file, (reason) => `cannot be read (${reason}); give the path of batch_reference.py's output`);
      const rows = referenceRows(parseReferenceRuns(text, file), file, opts.evals);
      if (rows.length === 0) throw new DataError(file, 'no function has runs at both batch 1 and batch 4 for one seed; run batch_reference.py with "batches": [1, 4]');
      for (const line of referenceReport(rows)) process.stdout.write(`${line}\n`);
      if (opts.json) process.stdout.write(`${JSON.stringify(rows)}\n`);
    });
}
