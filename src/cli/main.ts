#!/usr/bin/env node
// CLI entry: composes the sub-commands each package registers.
import { Command } from 'commander';
import { register as registerTrain } from './train.js';
import { register as registerBenchTrain } from './bench_train.js';
import { register as registerBenchBo } from './bench_bo.js';
import { register as registerBenchService } from './bench_service.js';
import { register as registerStudy } from './study.js';
import { register as registerRun } from './run.js';
import { register as registerWorker } from './worker.js';
import { PACKAGE_VERSION } from '../version.js';


const program = new Command('renorm-tune')
  .description('Tune Batch Renormalization schedules with Bayesian optimization')
  .version(PACKAGE_VERSION);
registerTrain(program);
const bench = program.command('bench').description('Benchmarks: trainer throughput, optimizer quality and latency');
registerBenchTrain(bench);
registerBenchBo(bench);
registerBenchService(bench);
registerRun(program);
registerWorker(program);
registerStudy(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
