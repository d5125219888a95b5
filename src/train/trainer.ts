// Trains one model for a scenario, schedule and seed: clipping set from the schedule every step, progress at each evaluation.
import * as tf from '@tensorflow/tfjs';
import { attachDataset, loadDataset, splitTrainValidation } from '../data/dataset.js';
import { createRng } from '../data/rng.js';
import { createSampler } from '../data/samplers.js';
import { validateScenario } from './scenario.js';
import type { Dataset } from '../data/types.js';
import { initBackend, type BackendName } from '../engine/backend.js';
import { buildModel, renormLayers, setModelClipping } from '../engine/models.js';
import { createTrainStep, type TrainStep } from '../engine/train_step.js';
import { isExportedSchedule, scheduleAt } from '../schedule/evaluate.js';
import { validateExportedSchedule } from '../schedule/load.js';
import { validateSchedule } from '../schedule/validate.js';
import type { ScheduleSpec } from '../schedule/types.js';
import { accuracy } from './accuracy.js';
import { imageTensor, labelTensor, trainModeOrder } from './batches.js';
import { seedModelWeights } from './seed.js';
import type { ClipReport, TrainProgress, TrainRequest, TrainResult } from './types.js';
import { yieldToEventLoop } from '../event_loop.js';

/** Inference batches are independent of the training batch size: only throughput depends on it. */
const INFERENCE_BATCH = 256;

/**
 * Training-mode accuracy needs one model call per (small) batch, which costs about as much as a training step,
 * so it is measured on a capped number of images: at least `minImages` or 32 batches, at most what is available.
 */
export function trainModeImages(available: number, batchSize: number, minImages: number): number {
  return Math.min(available, Math.max(minImages, 32 * batchSize));
}

/** Independent streams from one trial seed, so changing how batches are drawn never changes the initial weights. */
function deriveSeeds(seed: number): { init: number; sampler: number; evalOrder: number } {
  const rng = createRng(seed);
  const draw = () => Math.floor(rng.next() * 2 ** 31);
  return { init: draw(), sampler: draw(), evalOrder: draw() };
}

function clipReport(model: tf.LayersModel): ClipReport[] {
  return renormLayers(model).map((l) => ({ layer: l.name, ...l.clipFractions() }));
}

export async function train(request: TrainRequest): Promise<TrainResult> {
  const started = performance.now();
  const scenario = validateScenario(request.scenario, 'scenario');
  const totalSteps = scenario.steps;
  // An exported schedule carries its own run length; it is applied in relative time to this run (and checked at this
  // run's length: a formula over `step` does not stretch), with the renorm momentum its trial trained with.
  const exported = isExportedSchedule(request.schedule) ? validateExportedSchedule(request.schedule, 'schedule', { runSteps: totalSteps }) : undefined;
  const schedule: ScheduleSpec = exported ? exported.schedule : validateSchedule(request.schedule, 'schedule', { totalSteps });
  const renormMomentum = request.renormMomentum ?? exported?.renormMomentum;
  const { name: backend, device } = await initBackend((request.backend ?? 'auto') as BackendName);
  const dataset: Dataset = request.dataset ? attachDataset(request.dataset) : await loadDataset(scenario.dataset);
  const split = splitTrainValidation(dataset, scenario.validationSize, scenario.splitSeed, scenario.trainSubset);
  const seeds = deriveSeeds(request.seed);
  const train = dataset.train;

  const model = buildModel(scenario.model, dataset, dataset.numClasses);
  seedModelWeights(model, seeds.init);
  let trainStep: TrainStep | undefined;
  const sampler = createSampler(scenario.sampler, { indices: split.train, labels: train.labels, numClasses: dataset.numClasses, batchSize: scenario.batchSize, seed: seeds.sampler });

  const order = (idx: Int32Array) => trainModeOrder(idx, train.labels, dataset.numClasses, scenario.sampler, scenario.batchSize, seeds.evalOrder);
  const trainModeIdx = (idx: Int32Array, minImages: number) => order(idx.subarray(0, trainModeImages(idx.length, scenario.batchSize, minImages)));
  const evalIdx = split.validation.subarray(0, scenario.evalSize);
  const intermediate = { inference: evalIdx, trainMode: trainModeIdx(evalIdx, 256) };

  const curve: TrainProgress[] = [];
  let trainMs = 0;
  let lossSum = 0;
  let lossCount = 0;
  let lastLoss: number | null = null;
  let stepsDone = 0;
  const imagesPerSecond = () => (trainMs > 0 ? (stepsDone * scenario.batchSize * 1000) / trainMs : 0);
  const accuracies = (s: { inference: Int32Array; trainMode: Int32Array }) => ({
    valAccuracy: accuracy(model, dataset, train, s.inference, INFERENCE_BATCH, false),
    // Batches of the training size and composition; the moving statistics stay untouched.
    valAccuracyTrainMode: accuracy(model, dataset, train, s.trainMode, scenario.batchSize, true),
  });
  const report = (acc: { valAccuracy: number; valAccuracyTrainMode: number }): TrainProgress => {
    lastLoss = lossCount > 0 ? lossSum / lossCount : lastLoss;
    lossSum = 0;
    lossCount = 0;
    const p: TrainProgress = {
      step: stepsDone, totalSteps, loss: lastLoss ?? Number.NaN, ...acc,
      ...scheduleAt(schedule, Math.max(0, stepsDone - 1), totalSteps),
      clip: clipReport(model), imagesPerSecond: imagesPerSecond(), elapsedMs: performance.now() - started,
    };
    curve.push(p);
    request.onProgress?.(p);
    return p;
  };
  const result = (status: TrainResult['status'], extra: Partial<TrainResult>): TrainResult => ({
    status, valAccuracy: null, valAccuracyTrainMode: null, loss: lastLoss, steps: stepsDone, backend, ...(device ? { device } : {}),
    imagesPerSecond: imagesPerSecond(), elapsedMs: performance.now() - started, curve, ...extra,
  });

  try {
    trainStep = createTrainStep(model, { optimizer: scenario.optimizer.type, learningRate: scenario.optimizer.learningRate, renormMomentum });
    for (let step = 0; step < totalSteps; step++) {
      const t0 = performance.now();
      setModelClipping(model, scheduleAt(schedule, step, totalSteps));
      const idx = sampler.next();
      const x = imageTensor(dataset, train, idx);
      const y = labelTensor(train, idx);
      let loss: number;
      try {
        loss = trainStep.step(x, y);
      } finally {
        x.dispose();
        y.dispose();
      }
      trainMs += performance.now() - t0;
      stepsDone = step + 1;
      if (!Number.isFinite(loss)) {
        lastLoss = loss;
        return result('diverged', { failureReason: `training loss became ${loss} at step ${stepsDone} of ${totalSteps}` });
      }
      lossSum += loss;
      lossCount++;
      if (stepsDone % scenario.evalInterval === 0 && stepsDone < totalSteps) {
        const p = report(accuracies(intermediate));
        await yieldToEventLoop();
        if (request.shouldStop?.()) return result('stopped', { valAccuracy: p.valAccuracy, valAccuracyTrainMode: p.valAccuracyTrainMode });
      }
    }
    // Final report: inference mode on the whole validation split (intermediate ones use the evalSize subset for speed).
    const full = { inference: split.validation, trainMode: trainModeIdx(split.validation, 1000) };
    const final = report(accuracies(full));
    const extra: Partial<TrainResult> = { valAccuracy: final.valAccuracy, valAccuracyTrainMode: final.valAccuracyTrainMode };
    if (request.evaluateOn === 'test') {
      const all = Int32Array.from({ length: dataset.test.count }, (_, i) => i);
      extra.testAccuracy = accuracy(model, dataset, dataset.test, all, INFERENCE_BATCH, false);
    }
    await yieldToEventLoop();
    return result('ok', extra);
  } finally {
    // tfjs 4.22's MomentumOptimizer.dispose() forgets the learning-rate scalar `c` that SGDOptimizer.dispose() frees.
    const lr = (trainStep?.optimizer as unknown as { c?: tf.Tensor } | undefined)?.c;
    trainStep?.dispose();
    if (lr instanceof tf.Tensor && !lr.isDisposed) lr.dispose();
    model.dispose();
  }
}
