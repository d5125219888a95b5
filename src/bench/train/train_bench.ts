// Measures training throughput of the reference network on random data, side by side with PyTorch when present.
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendName } from '../../engine/backend.js';
import { buildModel, setModelClipping, shapeText, type InputShape } from '../../engine/models.js';
import { createTrainStep } from '../../engine/train_step.js';
import { TorchBench, torchUnavailableReason } from './torch_reference.js';
import { profileKernels, type KernelRow } from './kernel_profile.js';
import { cpuDescription } from '../cpu_info.js';
import { backendOnDevice } from '../../shared/trained_on.js';

export interface TrainBenchOptions {
  batchSize: number;
  steps: number;
  /** Warm-up: at least `warmup` steps and `warmupSeconds` seconds of ours; PyTorch warms up as many steps. */
  warmup: number;
  warmupSeconds: number;
  /** The first conv block's filters (the cnn model spec's `width`; 16 is the reference network), doubling in the second. */
  width: number;
  /** The random images' shape (28x28x1 is the reference network's input). */
  input: InputShape;
  rounds: number;
  backend: BackendName;
  torch: boolean;
  /** Steps of a short pure-JS cpu backend measurement for context (0 skips it). */
  cpuSteps: number;
  /** Also time every kernel over `steps` extra steps (CPU time) and report the top ones. */
  profile: boolean;
  log: (line: string) => void;
}

export interface TrainBenchResult {
  imagesPerSecond: number;
  msPerStep: number;
  backend: string;
  /** Where the backend computed ('GPU' or 'CPU'), when it can say. */
  device?: 'GPU' | 'CPU';
  batchSize: number;
  width: number;
  input: InputShape;
  /** Trainable parameters of the network (PyTorch's is checked to have as many). */
  params: number;
  steps: number;
  /** Warm-up steps actually run (each side), and how long ours took. */
  warmup: number;
  warmupSeconds: number;
  rounds: number;
  roundsImagesPerSecond: number[];
  torchImagesPerSecond: number | null;
  torchRoundsImagesPerSecond: number[] | null;
  ratio: number | null;
  /** Each round's ours / PyTorch (the two ran back to back, so a noisy neighbour slows both), and their median. */
  roundRatios: number[] | null;
  pairedRatio: number | null;
  torchNote: string | null;
  /**
   * Images per CPU second of each side (process CPU time, not wall clock): steadier than wall time on a
   * shared machine, since time-slicing by other processes does not count. Medians over rounds.
   */
  imagesPerCpuSecond: number;
  torchImagesPerCpuSecond: number | null;
  cpuTimeRatio: number | null;
  cpuImagesPerSecond: number | null;
  /** The CPU it ran on (cpuDescription): the ratio to PyTorch depends on its vector width. */
  cpu: string;
  kernelProfile: { totalMsPerStep: number; rows: KernelRow[] } | null;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** One trainer on the active backend; `run(steps)` returns images per second over those steps. */
function makeRunner(batchSize: number, width: number, input: InputShape) {
  const model = buildModel({ type: 'cnn', width }, input, 10);
  // Clipping active (the costly, realistic case), values as in Ioffe's schedule end.
  setModelClipping(model, { rmax: 3, dmax: 5 });
  const trainer = createTrainStep(model, { optimizer: 'adam', learningRate: 1e-3 });
  const x = tf.randomNormal([batchSize, input.height, input.width, input.channels], 0, 1, 'float32', 1);
  const labels = tf.randomUniform([batchSize], 0, 10, 'int32', 2);
  return {
    /** Trainable parameters: the PyTorch reference must have as many (the same network). */
    params: model.trainableWeights.reduce((n, w) => n + w.read().size, 0),
    run(steps: number): { wall: number; cpu: number } {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < steps; i++) trainer.step(x, labels);
      const wallMs = performance.now() - t0;
      const c = process.cpuUsage(c0);
      return { wall: (steps * batchSize * 1000) / wallMs, cpu: (steps * batchSize * 1e6) / (c.user + c.system) };
    },
    dispose() {
      trainer.dispose();
      model.dispose();
      x.dispose();
      labels.dispose();
    },
  };
}

export async function benchTrain(o: TrainBenchOptions): Promise<TrainBenchResult> {
  const { name: backend, device } = await initBackend(o.backend);
  const cpu = cpuDescription();
  o.log(`backend ${backendOnDevice(backend, device)}, batch ${o.batchSize}, width ${o.width}, input ${shapeText(o.input)}, ${o.rounds} rounds of ${o.steps} steps after at least ${o.warmup} warm-up steps ` +
    `and ${o.warmupSeconds} s, one thread; ${cpu}`);
  const runner = makeRunner(o.batchSize, o.width, o.input);
  const warmStart = performance.now();
  let warmSteps = 0;
  const chunk = Math.max(1, Math.min(o.warmup, 50));
  while (warmSteps < o.warmup || performance.now() - warmStart < o.warmupSeconds * 1000) {
    runner.run(chunk);
    warmSteps += chunk;
  }
  const warmSeconds = (performance.now() - warmStart) / 1000;
  o.log(`warmed up: ${warmSteps} steps in ${warmSeconds.toFixed(1)} s`);

  let torch: TorchBench | null = null;
  let torchNote: string | null = null;
  if (o.torch) {
    torchNote = torchUnavailableReason();
    if (!torchNote) {
      const started = await TorchBench.start(o.batchSize, o.width, o.input);
      torch = started.bench;
      if (started.params !== runner.params) {
        torch.close();
        throw new Error(`the PyTorch reference has ${started.params} parameters, ours ${runner.params}: src/bench/train/bench_torch.py must build the same network as buildModel`);
      }
      await torch.run(warmSteps);
      o.log(`PyTorch ${started.version} reference (src/bench/train/bench_torch.py, 1 thread) interleaved round by round`);
    } else {
      o.log(`PyTorch comparison skipped: ${torchNote}`);
    }
  } else {
    torchNote = 'disabled by --no-torch';
  }

  let kernelProfile: TrainBenchResult['kernelProfile'] = null;
  const ours: number[] = [];
  const theirs: number[] = [];
  const oursCpu: number[] = [];
  const theirsCpu: number[] = [];
  try {
    for (let r = 0; r < o.rounds; r++) {
      const a = runner.run(o.steps);
      ours.push(a.wall);
      oursCpu.push(a.cpu);
      let line = `  round ${r + 1}: tfjs ${a.wall.toFixed(0)} img/s (${a.cpu.toFixed(0)} per CPU s)`;
      if (torch) {
        const b = await torch.run(o.steps);
        theirs.push(b.wall);
        theirsCpu.push(b.cpu);
        line += `, torch ${b.wall.toFixed(0)} img/s (${b.cpu.toFixed(0)} per CPU s)`;
      }
      o.log(line);
    }
    if (o.profile) {
      kernelProfile = profileKernels(o.steps, (n) => runner.run(n));
      o.log(`kernels (CPU ms per step, outermost calls; total ${kernelProfile.totalMsPerStep.toFixed(2)} ms per step):`);
      for (const r of kernelProfile.rows.slice(0, 15)) {
        o.log(`  ${r.kernel.padEnd(28)} ${r.msPerStep.toFixed(3).padStart(8)}  x${r.callsPerStep}`);
      }
      const calls = kernelProfile.rows.reduce((a, r) => a + r.callsPerStep, 0);
      const inKernels = kernelProfile.rows.reduce((a, r) => a + r.msPerStep, 0);
      o.log(`  ${calls} kernel calls per step, ${inKernels.toFixed(2)} ms in kernels, the rest is framework overhead`);
    }
  } finally {
    torch?.close();
    runner.dispose();
  }
  const ips = median(ours);
  const tips = torch ? median(theirs) : null;
  const cpuIps = median(oursCpu);
  const cpuTips = torch ? median(theirsCpu) : null;
  const roundRatios = torch ? ours.map((a, i) => a / theirs[i]!) : null;

  let cpuImagesPerSecond: number | null = null;
  if (o.cpuSteps > 0 && backend !== 'cpu') {
    await initBackend('cpu');
    const cpu = makeRunner(o.batchSize, o.width, o.input);
    cpu.run(1);
    cpuImagesPerSecond = cpu.run(o.cpuSteps).wall;
    cpu.dispose();
    await initBackend(o.backend);
    o.log(`context: pure-JS cpu backend ${cpuImagesPerSecond.toFixed(1)} img/s (${o.cpuSteps} steps), ${(ips / cpuImagesPerSecond).toFixed(0)}x slower than ${backend}`);
  }
  return {
    cpu,
    imagesPerSecond: ips,
    msPerStep: (o.batchSize * 1000) / ips,
    backend,
    ...(device ? { device } : {}),
    batchSize: o.batchSize,
    width: o.width,
    input: o.input,
    params: runner.params,
    steps: o.steps,
    warmup: warmSteps,
    warmupSeconds: warmSeconds,
    rounds: o.rounds,
    roundsImagesPerSecond: ours,
    torchImagesPerSecond: tips,
    torchRoundsImagesPerSecond: torch ? theirs : null,
    ratio: tips ? ips / tips : null,
    roundRatios,
    pairedRatio: roundRatios ? median(roundRatios) : null,
    torchNote,
    imagesPerCpuSecond: cpuIps,
    torchImagesPerCpuSecond: cpuTips,
    cpuTimeRatio: cpuTips ? cpuIps / cpuTips : null,
    cpuImagesPerSecond,
    kernelProfile,
  };
}
