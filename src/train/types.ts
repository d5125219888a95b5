// The trainer's request, progress reports and result: what a worker receives and sends back for one trial.
import type { Dataset } from '../data/types.js';
import type { Scenario } from './scenario.js';
import type { ExportedSchedule, ScheduleSpec } from '../schedule/types.js';

export interface TrainRequest {
  scenario: Scenario;
  /** An exported schedule is applied in relative time, stretched to `scenario.steps`. */
  schedule: ScheduleSpec | ExportedSchedule;
  /** Decay of the statistics r and d are measured against (default: an exported schedule's, else the engine's 0.99). */
  renormMomentum?: number;
  /** Seeds weight init, the batch stream and the train-mode evaluation order. */
  seed: number;
  /** 'auto' (default) takes the fastest installed backend; see the engine's initBackend. */
  backend?: string;
  /** Preloaded shared data (a worker gets it from the pool); otherwise it is loaded from scenario.dataset. */
  dataset?: Dataset;
  /** Final metrics on the validation split (default), or additionally on the test split (final validation runs). */
  evaluateOn?: 'validation' | 'test';
  onProgress?: (p: TrainProgress) => void;
  /** Checked after each evaluation; true stops the run with status 'stopped' (pruning, user stop). */
  shouldStop?: () => boolean;
}

export interface ClipReport {
  layer: string;
  /** Fraction of channels whose r hit a clip bound in the last training step. */
  r: number;
  /** Fraction of channels whose d hit a clip bound in the last training step. */
  d: number;
}

/** A type, not an interface, so a report is also a Record<string, unknown> (metrics are looked up by name). */
export type TrainProgress = {
  /** Steps completed. */
  step: number;
  totalSteps: number;
  /** Mean training loss over the steps since the previous report. */
  loss: number;
  /** Inference mode (moving statistics), on `evalSize` validation images; on the whole validation split in the final report. */
  valAccuracy: number;
  /**
   * Training mode (batch statistics) on validation batches composed like the training batches; the gap to valAccuracy
   * is BatchNorm's failure. Measured on max(256, 32 batches) of the evalSize images (final report: max(1000, 32 batches)
   * of the validation split), because each small batch costs a model call.
   */
  valAccuracyTrainMode: number;
  rmax: number;
  rmin: number;
  dmax: number;
  clip: ClipReport[];
  /** Training throughput so far (evaluation time excluded). */
  imagesPerSecond: number;
  elapsedMs: number;
};

export type TrainStatus = 'ok' | 'diverged' | 'stopped';

/** A type, not an interface, for the same reason as TrainProgress. */
export type TrainResult = {
  status: TrainStatus;
  failureReason?: string;
  /** Inference-mode accuracy on the whole validation split ('ok'), on the last evaluation subset ('stopped'), null ('diverged'). */
  valAccuracy: number | null;
  valAccuracyTrainMode: number | null;
  /** Only with evaluateOn 'test' and status 'ok': inference-mode accuracy on the test split. */
  testAccuracy?: number;
  /** Mean training loss of the last reporting interval. */
  loss: number | null;
  /** Steps actually taken. */
  steps: number;
  backend: string;
  /** Where the backend computed: 'GPU' or 'CPU' (absent where a native build does not say). */
  device?: 'GPU' | 'CPU';
  imagesPerSecond: number;
  elapsedMs: number;
  curve: TrainProgress[];
};
