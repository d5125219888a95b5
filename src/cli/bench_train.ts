// `renorm-tune bench train`: training throughput of the reference network, side by side with PyTorch.
import { type Command, Option } from 'commander';
import { ConfigError } from '../errors.js';
import { imageShape, nonNegativeInt, positiveInt } from './options.js';
import { BACKEND_NAMES, type BackendName } from '../engine/backend.js';
import { benchTrain } from '../bench/train/train_bench.js';
import { shapeText, type InputShape } from '../engine/models.js';

export function register(bench: Command): void {
  bench
    .command('train')
    .description('Images/s of one training thread on the reference CNN (random 28x28x1 data unless --input, Adam), vs PyTorch CPU when installed')
    .requiredOption('--batch-size <n>', 'batch size', positiveInt('--batch-size', 32))
    .option('--steps <n>', 'timed steps per round (default max(40, 4000 / batch size): about 1-2 s a side)', positiveInt('--steps', 1000))
    .option('--warmup <n>', 'untimed warm-up steps, at least', positiveInt('--warmup'), 15)
    .option('--warmup-seconds <s>', 'and warm up for at least this long: V8 compiles the wasm backend\'s hot code in the background over the first seconds',
      nonNegativeInt('--warmup-seconds', 5), 5)
    .option('--width <n>', 'first conv block\'s filters, doubling in the second (the model spec\'s width: 16 is the reference CNN); PyTorch runs the same net', positiveInt('--width', 512), 16)
    .addOption(new Option('--input <HxWxC>', 'image shape of the random data (32x32x3 is CIFAR\'s); PyTorch runs the same')
      .argParser(imageShape('--input')).default({ height: 28, width: 28, channels: 1 }, '28x28x1, the reference'))
    .option('--rounds <n>', 'rounds, alternating ours and torch; medians are reported', positiveInt('--rounds'), 5)
    .option('--backend <name>', `backend: ${BACKEND_NAMES.join(', ')}`, 'auto')
    .option('--no-torch', 'skip the PyTorch comparison')
    .option('--cpu-steps <n>', 'steps of a short pure-JS cpu backend measurement for context (0 to skip)', nonNegativeInt('--cpu-steps', 0), 2)
    .option('--profile', 'also time every kernel (CPU ms per step) over extra steps')
    .option('--json', 'print a JSON summary as the last line')
    .action(async (opts: {
      batchSize: number; steps?: number; warmup: number; warmupSeconds: number; width: number; input: InputShape; rounds: number; backend: string;
      torch: boolean; cpuSteps: number; profile?: boolean; json?: boolean;
    }) => {
      if (!BACKEND_NAMES.includes(opts.backend as BackendName)) {
        throw new ConfigError('--backend', `unknown backend '${opts.backend}'`, `use one of ${BACKEND_NAMES.join(', ')}`);
      }
      if (opts.input.height < 4 || opts.input.width < 4) {
        throw new ConfigError('--input', `the network's two 2x2 max-pools need at least 4x4 pixels, got ${shapeText(opts.input)}`, 'e.g. --input 32x32x3');
      }
      const steps = opts.steps ?? Math.max(40, Math.round(4000 / opts.batchSize));
      const log = (line: string) => process.stdout.write(`${line}\n`);
      const r = await benchTrain({
        batchSize: opts.batchSize, steps, warmup: opts.warmup, warmupSeconds: opts.warmupSeconds, width: opts.width, input: opts.input, rounds: opts.rounds,
        backend: opts.backend as BackendName, torch: opts.torch, cpuSteps: opts.cpuSteps, profile: opts.profile === true, log,
      });
      log(`bench train: ${r.imagesPerSecond.toFixed(1)} img/s (${r.msPerStep.toFixed(2)} ms/step) on ${r.backend}, batch ${r.batchSize}, width ${r.width}, input ${shapeText(r.input)}`);
      if (r.ratio !== null) {
        log(`PyTorch CPU (1 thread): ${r.torchImagesPerSecond!.toFixed(1)} img/s; ratio ${r.ratio.toFixed(2)}x (target >= 0.35x)`);
        const rr = r.roundRatios!;
        log(`paired by round (each round's two sides ran back to back): median ratio ${r.pairedRatio!.toFixed(2)}x, ` +
          `rounds ${Math.min(...rr).toFixed(2)}-${Math.max(...rr).toFixed(2)}x`);
        log(`per CPU second (ignores time-slicing on a busy machine): tfjs ${r.imagesPerCpuSecond.toFixed(0)}, ` +
          `torch ${r.torchImagesPerCpuSecond!.toFixed(0)}, ratio ${r.cpuTimeRatio!.toFixed(2)}x`);
      }
      if (opts.json) log(JSON.stringify(r));
    });
}
