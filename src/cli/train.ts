// `renorm-tune train <config.json>`: one training run of a scenario and schedule, with progress and final accuracies.
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { ConfigError } from '../errors.js';
import { BACKEND_NAMES } from '../engine/backend.js';
import { describeSchedule, isExportedSchedule } from '../schedule/evaluate.js';
import { loadScheduleArg } from '../schedule/load.js';
import { loadTrainConfig } from '../train/config.js';
import { train } from '../train/trainer.js';
import { wholeNumber } from './options.js';
import type { TrainProgress } from '../train/types.js';
import { backendOnDevice } from '../shared/trained_on.js';

interface TrainOptions {
  schedule?: string;
  backend?: string;
  seed?: number;
  json?: boolean;
  test: boolean;
}

function seedArg(raw: string): number {
  const v = wholeNumber(raw);
  if (!Number.isInteger(v) || v < 0 || v > 2 ** 31 - 1) throw new ConfigError('--seed', `must be an integer in [0, 2147483647], got '${raw}'`, 'e.g. --seed 1');
  return v;
}

const pct = (v: number | null | undefined) => (v === null || v === undefined ? '-' : `${(100 * v).toFixed(2)}%`);

function progressLine(p: TrainProgress): string {
  return `step ${p.step}/${p.totalSteps}  loss ${p.loss.toFixed(4)}  val ${pct(p.valAccuracy)} (train-mode ${pct(p.valAccuracyTrainMode)})  rmax ${p.rmax.toFixed(2)} dmax ${p.dmax.toFixed(2)}  ${Math.round(p.imagesPerSecond)} img/s`;
}

/** A bar on a terminal, one line per evaluation otherwise (logs and CI stay readable). */
function progressReporter(totalSteps: number): { update(p: TrainProgress): void; stop(): void } {
  if (!process.stderr.isTTY) return { update: (p) => process.stderr.write(`${progressLine(p)}\n`), stop: () => {} };
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: 'train [{bar}] {value}/{total} steps | loss {loss} | val {val} (train-mode {valTrain}) | {ips} img/s', hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(totalSteps, 0, { loss: '-', val: '-', valTrain: '-', ips: '-' });
  return {
    update: (p) => bar.update(p.step, { loss: p.loss.toFixed(4), val: pct(p.valAccuracy), valTrain: pct(p.valAccuracyTrainMode), ips: Math.round(p.imagesPerSecond) }),
    stop: () => bar.stop(),
  };
}

export function register(program: Command): void {
  program
    .command('train')
    .description('Train one model for a scenario and schedule; prints inference- and train-mode validation accuracy and test accuracy')
    .argument('<config>', 'JSON file: {"scenario": {...}, "schedule"?: {...}, "seed"?: N, "backend"?: "auto"}')
    .option('--schedule <schedule>', "'paper', 'batchnorm' or a JSON file (a schedule or an exported best schedule); overrides the config (default: the config's, else paper)")
    .option('--backend <name>', `backend: ${BACKEND_NAMES.join(', ')} (overrides the config; default auto)`)
    .option('--seed <n>', 'trial seed (overrides the config; default 0)', seedArg)
    .option('--no-test', 'skip scoring the test split at the end')
    .option('--json', 'print the result as one JSON object, alone on stdout (the human summary goes to stderr)')
    .action(async (configPath: string, opts: TrainOptions) => {
      // Everything is validated before the (slow) dataset load and training start.
      const config = loadTrainConfig(configPath);
      const schedule = opts.schedule !== undefined ? loadScheduleArg(opts.schedule, { totalSteps: config.scenario.steps }) : (config.schedule ?? { kind: 'paper' as const });
      if (opts.backend !== undefined && !(BACKEND_NAMES as readonly string[]).includes(opts.backend)) {
        throw new ConfigError('--backend', `unknown backend '${opts.backend}'`, `use one of ${BACKEND_NAMES.join(', ')}`);
      }
      const backend = opts.backend ?? config.backend ?? 'auto';
      const seed = opts.seed ?? config.seed ?? 0;
      const spec = isExportedSchedule(schedule) ? schedule.schedule : schedule;
      const { scenario } = config;
      const momentum = isExportedSchedule(schedule) ? schedule.renormMomentum : undefined;
      process.stderr.write(`schedule: ${describeSchedule(spec)}${momentum === undefined ? '' : `, renorm momentum ${momentum} (the export's)`}\n`);
      const reporter = progressReporter(scenario.steps);
      let result;
      try {
        result = await train({ scenario, schedule, seed, backend, evaluateOn: opts.test ? 'test' : 'validation', onProgress: (p) => reporter.update(p) });
      } finally {
        reporter.stop();
      }
      const summary = {
        status: result.status,
        ...(result.failureReason ? { failureReason: result.failureReason } : {}),
        valAccuracy: result.valAccuracy,
        valAccuracyTrainMode: result.valAccuracyTrainMode,
        testAccuracy: result.testAccuracy ?? null,
        loss: result.loss,
        steps: result.steps,
        backend: result.backend,
        ...(result.device ? { device: result.device } : {}),
        imagesPerSecond: Math.round(result.imagesPerSecond * 10) / 10,
        elapsedMs: Math.round(result.elapsedMs),
        seed,
        schedule: spec,
        ...(momentum === undefined ? {} : { renormMomentum: momentum }),
        scenario,
      };
      const lines = [
        `status: ${result.status}${result.failureReason ? ` (${result.failureReason})` : ''}`,
        `validation accuracy (inference mode): ${pct(result.valAccuracy)}`,
        `validation accuracy (train mode):     ${pct(result.valAccuracyTrainMode)}`,
        ...(opts.test ? [`test accuracy (inference mode):       ${pct(result.testAccuracy)}`] : []),
        `steps ${result.steps}, backend ${backendOnDevice(result.backend, result.device)}, ${Math.round(result.imagesPerSecond)} img/s, ${(result.elapsedMs / 1000).toFixed(1)} s`,
      ];
      // With --json, stdout is the one JSON document (for `| jq`); the human lines go to stderr beside the progress.
      (opts.json ? process.stderr : process.stdout).write(`${lines.join('\n')}\n`);
      if (opts.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
      if (result.status === 'diverged') process.exitCode = 2;
    });
}
