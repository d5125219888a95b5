// The BatchRenormalization layer (Ioffe 2017), numerically identical to Keras BatchNormalization(renorm=True).
import * as tf from '@tensorflow/tfjs';
import type { Clipping } from '../schedule/types.js';
import { ConfigError } from '../errors.js';
import { type Initializer, type InitializerIdentifier, resolveInitializer, serializeInitializer } from './initializers.js';
import { batchRenorm, type RenormUpdates } from './ops/renorm.js';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;
type Kwargs = { [key: string]: unknown };

export interface BatchRenormalizationArgs extends LayerArgs {
  /** Feature axis kept by the normalization (default -1, channels last). */
  axis?: number;
  /** Decay of moving_mean / moving_stddev, used at inference (default 0.99). */
  momentum?: number;
  /** Added to the variance before the square root (default 1e-3, as Keras). */
  epsilon?: number;
  /** Decay of renorm_mean / renorm_stddev, the statistics r and d are measured against (default 0.99). */
  renormMomentum?: number;
  /** Learn an offset beta (default true). */
  center?: boolean;
  /** Learn a scale gamma (default true). */
  scale?: boolean;
  /** Initial beta (default 'zeros'). */
  betaInitializer?: InitializerIdentifier;
  /** Initial gamma (default 'ones'). */
  gammaInitializer?: InitializerIdentifier;
  /** Initial moving_mean and renorm_mean (default 'zeros'). */
  movingMeanInitializer?: InitializerIdentifier;
  /** Initial moving_variance (default 'ones'); moving_stddev and renorm_stddev start at its square root. */
  movingVarianceInitializer?: InitializerIdentifier;
  /**
   * Initial clipping. Default rmax = 1, rmin = 1, dmax = 0: the layer is plain BatchNorm until a schedule
   * calls `setClipping` (Ioffe's warm-up). `Infinity` disables a bound.
   */
  rmax?: number;
  rmin?: number;
  dmax?: number;
}

/** Validates a clipping and fills rmin = 1 / rmax; `field` prefixes error messages. */
export function normalizeClipping(c: { rmax: number; rmin?: number; dmax: number }, field = 'clipping'): Clipping {
  const { rmax, dmax } = c;
  if (typeof rmax !== 'number' || Number.isNaN(rmax) || rmax < 1) {
    throw new ConfigError(`${field}.rmax`, `must be a number >= 1, got ${String(rmax)}`, 'use 1 for no correction, Infinity for no clip');
  }
  if (typeof dmax !== 'number' || Number.isNaN(dmax) || dmax < 0) {
    throw new ConfigError(`${field}.dmax`, `must be a number >= 0, got ${String(dmax)}`, 'use 0 for no correction, Infinity for no clip');
  }
  const rmin = c.rmin ?? 1 / rmax;
  if (typeof rmin !== 'number' || Number.isNaN(rmin) || rmin > 1 || rmin < 0) {
    throw new ConfigError(`${field}.rmin`, `must be a number in [0, 1], got ${String(rmin)}`, 'omit it to use 1 / rmax');
  }
  return { rmax, rmin, dmax };
}

export class BatchRenormalization extends tf.layers.Layer {
  static className = 'BatchRenormalization';

  readonly axis: number;
  readonly momentum: number;
  readonly epsilon: number;
  /** Mutable so a trainer can override it for a whole model (createTrainStep does). */
  renormMomentum: number;
  readonly center: boolean;
  readonly scale: boolean;
  private readonly betaInitializer: Initializer;
  private readonly gammaInitializer: Initializer;
  private readonly movingMeanInitializer: Initializer;
  private readonly movingVarianceInitializer: Initializer;
  private clipping: Clipping;

  /**
   * When false, a training-mode call normalizes with batch statistics but leaves every moving statistic
   * (and the clip record) untouched: used to measure training-mode accuracy without disturbing the model.
   */
  updateStatistics = true;

  gamma: tf.LayerVariable | null = null;
  beta: tf.LayerVariable | null = null;
  movingMean!: tf.LayerVariable;
  movingVariance!: tf.LayerVariable;
  movingStddev!: tf.LayerVariable;
  renormMean!: tf.LayerVariable;
  renormStddev!: tf.LayerVariable;

  /** Unclipped r and d of the last recorded training call, kept (tiny, per channel) so clipFractions() can read them lazily. */
  private lastR: tf.Tensor | null = null;
  private lastD: tf.Tensor | null = null;
  private lastClipping: Clipping | null = null;

  constructor(args: BatchRenormalizationArgs = {}) {
    super(args);
    this.supportsMasking = true;
    this.axis = args.axis ?? -1;
    this.momentum = checkFraction(args.momentum ?? 0.99, 'momentum');
    this.epsilon = args.epsilon ?? 1e-3;
    if (!(this.epsilon > 0)) throw new ConfigError('epsilon', `must be > 0, got ${this.epsilon}`, 'use the Keras default 1e-3');
    this.renormMomentum = checkFraction(args.renormMomentum ?? 0.99, 'renormMomentum');
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
    this.betaInitializer = resolveInitializer(args.betaInitializer, 'zeros', 'betaInitializer');
    this.gammaInitializer = resolveInitializer(args.gammaInitializer, 'ones', 'gammaInitializer');
    this.movingMeanInitializer = resolveInitializer(args.movingMeanInitializer, 'zeros', 'movingMeanInitializer');
    this.movingVarianceInitializer = resolveInitializer(args.movingVarianceInitializer, 'ones', 'movingVarianceInitializer');
    this.clipping = normalizeClipping({ rmax: args.rmax ?? 1, rmin: args.rmin, dmax: args.dmax ?? 0 });
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) || inputShape[0] === undefined ? inputShape[0] : inputShape) as tf.Shape;
    const axis = this.axis >= 0 ? this.axis : this.axis + shape.length;
    const dim = shape[axis];
    if (dim == null) {
      throw new ConfigError('axis', `axis ${axis} of input shape ${JSON.stringify(shape)} has no defined size`, 'normalize a defined axis');
    }
    this.inputSpec = [new tf.InputSpec({ ndim: shape.length, axes: { [axis]: dim } })];
    const w = [dim];
    if (this.scale) this.gamma = this.addWeight('gamma', w, 'float32', this.gammaInitializer, undefined, true);
    if (this.center) this.beta = this.addWeight('beta', w, 'float32', this.betaInitializer, undefined, true);
    this.movingMean = this.addWeight('moving_mean', w, 'float32', this.movingMeanInitializer, undefined, false);
    this.movingVariance = this.addWeight('moving_variance', w, 'float32', this.movingVarianceInitializer, undefined, false);
    // As Keras (TF 2): renorm_mean starts like moving_mean, and both stddevs are the square root of the variance initializer.
    this.movingStddev = this.addWeight('moving_stddev', w, 'float32', this.movingVarianceInitializer, undefined, false);
    this.renormMean = this.addWeight('renorm_mean', w, 'float32', this.movingMeanInitializer, undefined, false);
    this.renormStddev = this.addWeight('renorm_stddev', w, 'float32', this.movingVarianceInitializer, undefined, false);
    tf.tidy(() => {
      this.movingStddev.write(tf.sqrt(this.movingStddev.read()));
      this.renormStddev.write(tf.sqrt(this.renormStddev.read()));
    });
    this.built = true;
  }

  /** Sets rmax/rmin/dmax for the following training calls. Plain numbers: nothing is rebuilt. */
  setClipping(c: { rmax: number; rmin?: number; dmax: number }): void {
    this.clipping = normalizeClipping(c);
  }

  getClipping(): Clipping {
    return { ...this.clipping };
  }

  /**
   * Fraction of channels whose r (resp. d) hit a clip bound in the last training call that updated statistics.
   * Reads two per-channel vectors (one small sync): call it at evaluation intervals, not every step.
   */
  clipFractions(): { r: number; d: number } {
    if (!this.lastR || !this.lastD || !this.lastClipping) return { r: 0, d: 0 };
    const { rmax, rmin, dmax } = this.lastClipping;
    const r = this.lastR.dataSync();
    const d = this.lastD.dataSync();
    let nr = 0;
    let nd = 0;
    for (const v of r) if (v > rmax || v < rmin) nr++;
    for (const v of d) if (v > dmax || v < -dmax) nd++;
    return { r: nr / r.length, d: nd / d.length };
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const training = kwargs['training'] === true;
      return batchRenorm(x, {
        gamma: this.gamma?.read() ?? null,
        beta: this.beta?.read() ?? null,
        movingMean: this.movingMean.read(),
        movingVariance: this.movingVariance.read(),
        movingStddev: this.movingStddev.read(),
        renormMean: this.renormMean.read(),
        renormStddev: this.renormStddev.read(),
      }, {
        axis: this.axis, epsilon: this.epsilon, momentum: this.momentum, renormMomentum: this.renormMomentum,
        clipping: this.clipping, training,
      }, training && this.updateStatistics ? (u) => this.record(u) : undefined);
    });
  }

  /** Moves the five statistics to a training call's values and keeps its unclipped r, d for clipFractions(). */
  private record(u: RenormUpdates): void {
    this.renormMean.write(u.renormMean);
    this.renormStddev.write(u.renormStddev);
    this.movingMean.write(u.movingMean);
    this.movingStddev.write(u.movingStddev);
    this.movingVariance.write(u.movingVariance);
    this.lastR?.dispose();
    this.lastD?.dispose();
    this.lastR = tf.keep(u.rRaw);
    this.lastD = tf.keep(u.dRaw);
    this.lastClipping = { ...this.clipping };
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = {
      axis: this.axis,
      momentum: this.momentum,
      epsilon: this.epsilon,
      renormMomentum: this.renormMomentum,
      center: this.center,
      scale: this.scale,
      betaInitializer: serializeInitializer(this.betaInitializer),
      gammaInitializer: serializeInitializer(this.gammaInitializer),
      movingMeanInitializer: serializeInitializer(this.movingMeanInitializer),
      movingVarianceInitializer: serializeInitializer(this.movingVarianceInitializer),
      // JSON has no Infinity: null stands for "no clip".
      rmax: finiteOrNull(this.clipping.rmax),
      rmin: this.clipping.rmin,
      dmax: finiteOrNull(this.clipping.dmax),
    };
    return { ...super.getConfig(), ...config };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    const args = { ...config } as Record<string, unknown>;
    if (args['rmax'] === null) args['rmax'] = Infinity;
    if (args['dmax'] === null) args['dmax'] = Infinity;
    return new cls(args);
  }

  override dispose(): ReturnType<tf.layers.Layer['dispose']> {
    this.lastR?.dispose();
    this.lastD?.dispose();
    this.lastR = this.lastD = null;
    // tfjs-layers refuses to dispose a layer only ever called eagerly (no graph node); free its weights anyway.
    if ((this as unknown as { _refCount: number | null })._refCount == null) {
      const weights = this.weights;
      for (const w of weights) w.dispose();
      return { refCountAfterDispose: 0, numDisposedVariables: weights.length };
    }
    return super.dispose();
  }
}
tf.serialization.registerClass(BatchRenormalization);

function checkFraction(v: number, field: string): number {
  if (typeof v !== 'number' || !(v >= 0 && v < 1)) {
    throw new ConfigError(field, `must be in [0, 1), got ${String(v)}`, 'use e.g. 0.99');
  }
  return v;
}

function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}
