// The BatchRenormalization layer (Ioffe 2017), numerically identical to Keras BatchNormalization(renorm=True).
import * as tf from '@tensorflow/tfjs';
import type { Clipping } from '../schedule/types.js';
import { ConfigError } from '../errors.js';
import { type Initializer, type InitializerIdentifier, resolveInitializer, serializeInitializer } from './initializers.js';
import { CHANNEL_AFFINE, RENORM_BACKWARD, RENORM_MOMENTS, RENORM_STATS, STATS_OUTPUTS, renormKernelsActive } from './kernels/renorm_kernels.js';

let fusedEnabled = true;
/** Test hook: false forces the generic tensor-op path even where the fused BRN kernels are registered. */
export function setFusedRenormKernels(on: boolean): void {
  fusedEnabled = on;
}

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
  betaInitializer?: InitializerIdentifier;
  gammaInitializer?: InitializerIdentifier;
  movingMeanInitializer?: InitializerIdentifier;
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
  private ones: tf.Tensor | null = null;
  private zeros: tf.Tensor | null = null;

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
    // Keras draws the stddevs from the variance initializer and takes the square root.
    this.movingStddev = this.addWeight('moving_stddev', w, 'float32', this.movingVarianceInitializer, undefined, false);
    this.renormMean = this.addWeight('renorm_mean', w, 'float32', tf.initializers.zeros(), undefined, false);
    this.renormStddev = this.addWeight('renorm_stddev', w, 'float32', this.movingVarianceInitializer, undefined, false);
    tf.tidy(() => {
      this.movingStddev.write(tf.sqrt(this.movingStddev.read()));
      this.renormStddev.write(tf.sqrt(this.renormStddev.read()));
    });
    this.ones = tf.keep(tf.ones(w));
    this.zeros = tf.keep(tf.zeros(w));
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
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    const training = kwargs['training'] === true;
    const fused = fusedEnabled && (this.axis === -1 || this.axis === x.rank - 1) && renormKernelsActive();
    return tf.tidy(() => {
      if (!training) return fused ? this.inferenceFused(x) : this.normalizeInference(x);
      return fused ? this.trainingFused(x) : this.normalizeTraining(x);
    });
  }

  private inferenceFused(x: tf.Tensor): tf.Tensor {
    const gamma = this.gamma ? this.gamma.read() : this.ones!;
    const scale = tf.mul(gamma, tf.rsqrt(tf.add(this.movingVariance.read(), this.epsilon)));
    const beta = this.beta ? this.beta.read() : this.zeros!;
    return tf.engine().runKernel(CHANNEL_AFFINE, { x, center: this.movingMean.read(), scale, offset: beta }) as tf.Tensor;
  }

  /** r and d (raw and clipped) from this batch's per-channel mean and std, against the renorm statistics. */
  private correction(mean: tf.Tensor, std: tf.Tensor): { rRaw: tf.Tensor; dRaw: tf.Tensor; r: tf.Tensor; d: tf.Tensor } {
    const { rmax, rmin, dmax } = this.clipping;
    const renormStd = tf.maximum(this.renormStddev.read(), Math.sqrt(this.epsilon));
    const rRaw = tf.div(std, renormStd);
    const dRaw = tf.div(tf.sub(mean, this.renormMean.read()), renormStd);
    return { rRaw, dRaw, r: tf.clipByValue(rRaw, rmin, rmax), d: clipSymmetric(dRaw, dmax) };
  }

  /**
   * Same maths as normalizeTraining, channels last, in four fused kernels: batch moments, per-channel
   * statistics (r, d, affine terms, updated moving averages), the affine pass, and the backward pass.
   */
  private trainingFused(x: tf.Tensor): tf.Tensor {
    const record = this.updateStatistics;
    const gammaIn = this.gamma ? this.gamma.read() : this.ones!;
    const betaIn = this.beta ? this.beta.read() : this.zeros!;
    const engine = tf.engine();
    const { rmin, rmax, dmax } = this.clipping;
    const attrs = { epsilon: this.epsilon, rmin, rmax, dmax, momentum: this.momentum, renormMomentum: this.renormMomentum };
    const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [xin, gamma, beta] = args as [tf.Tensor, tf.Tensor, tf.Tensor];
      const save = args[3] as tf.GradSaveFunc;
      const [mean, variance] = engine.runKernel(RENORM_MOMENTS, { x: xin }) as tf.Tensor[] as [tf.Tensor, tf.Tensor];
      const out = engine.runKernel(RENORM_STATS, {
        mean, variance, gamma, beta,
        renormMean: this.renormMean.read(), renormStddev: this.renormStddev.read(),
        movingMean: this.movingMean.read(), movingStddev: this.movingStddev.read(),
      }, attrs) as tf.Tensor[];
      const s = Object.fromEntries(STATS_OUTPUTS.map((n, i) => [n, out[i]!])) as Record<(typeof STATS_OUTPUTS)[number], tf.Tensor>;
      const y = engine.runKernel(CHANNEL_AFFINE, { x: xin, center: mean, scale: s.scale, offset: s.offset }) as tf.Tensor;
      if (record) {
        this.renormMean.write(s.renormMean);
        this.renormStddev.write(s.renormStddev);
        this.movingMean.write(s.movingMean);
        this.movingStddev.write(s.movingStddev);
        this.movingVariance.write(s.movingVariance);
        this.recordClip(s.rRaw, s.dRaw);
      }
      save([xin, mean, s.invstd, s.rg, s.r, s.d]);
      return {
        value: y,
        gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
          const [sx, smean, sinvstd, srg, sr, sd] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
          return engine.runKernel(RENORM_BACKWARD, {
            dy: dy as tf.Tensor, x: sx, mean: smean, invstd: sinvstd, scale: srg, r: sr, d: sd,
          }) as tf.Tensor[];
        },
      };
    });
    return op(x, gammaIn, betaIn);
  }

  private layout(x: tf.Tensor): { redAxes: number[]; bshape: number[]; count: number } {
    const axis = this.axis >= 0 ? this.axis : this.axis + x.rank;
    const redAxes: number[] = [];
    const bshape: number[] = [];
    let count = 1;
    for (let i = 0; i < x.rank; i++) {
      if (i === axis) {
        bshape.push(x.shape[i]!);
      } else {
        redAxes.push(i);
        bshape.push(1);
        count *= x.shape[i]!;
      }
    }
    return { redAxes, bshape, count };
  }

  private normalizeInference(x: tf.Tensor): tf.Tensor {
    const { bshape } = this.layout(x);
    const gamma = this.gamma ? this.gamma.read() : this.ones!;
    const beta = this.beta ? this.beta.read() : this.zeros!;
    const scale = tf.mul(gamma, tf.rsqrt(tf.add(this.movingVariance.read(), this.epsilon)));
    const offset = tf.sub(beta, tf.mul(this.movingMean.read(), scale));
    return tf.add(tf.mul(x, tf.reshape(scale, bshape)), tf.reshape(offset, bshape));
  }

  private normalizeTraining(x: tf.Tensor): tf.Tensor {
    const { redAxes, bshape, count } = this.layout(x);
    const eps = this.epsilon;
    const record = this.updateStatistics;
    const gammaIn = this.gamma ? this.gamma.read() : this.ones!;
    const betaIn = this.beta ? this.beta.read() : this.zeros!;
    // One custom-gradient op: r and d are computed inside its forward pass, which the tape does not record,
    // so they are constants for backprop exactly like Keras' tf.stop_gradient(r), tf.stop_gradient(d).
    const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [xin, gamma, beta] = args as tf.Tensor[];
      const save = args[3] as tf.GradSaveFunc;
      const mean = tf.mean(xin!, redAxes, true);
      const xc = tf.sub(xin!, mean);
      const variance = tf.mean(tf.square(xc), redAxes, true);
      const std = tf.sqrt(tf.add(variance, eps));
      const invstd = tf.div(1, std);
      const meanC = tf.reshape(mean, [-1]);
      const stdC = tf.reshape(std, [-1]);
      const { rRaw, dRaw, r, d } = this.correction(meanC, stdC);
      const scale = tf.reshape(tf.mul(tf.mul(r, gamma!), tf.reshape(invstd, [-1])), bshape);
      const offset = tf.reshape(tf.add(beta!, tf.mul(d, gamma!)), bshape);
      const y = tf.add(tf.mul(xc, scale), offset);
      if (record) this.updateMoments(meanC, stdC, rRaw, dRaw);
      save([xc, invstd, r, d, gamma!]);
      return {
        value: y,
        gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
          const g = dy as tf.Tensor;
          const [sxc, sinvstd, sr, sd, sgamma] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
          const sumDy = tf.sum(g, redAxes, true);
          const sumDyXc = tf.sum(tf.mul(g, sxc), redAxes, true);
          const sumDyC = tf.reshape(sumDy, [-1]);
          const sumDyXhatC = tf.mul(tf.reshape(sumDyXc, [-1]), tf.reshape(sinvstd, [-1]));
          const dgamma = tf.add(tf.mul(sr, sumDyXhatC), tf.mul(sd, sumDyC));
          const dbeta = sumDyC;
          // dx = r*gamma*invstd * (dy - mean(dy) - xhat * mean(dy*xhat)), with xhat = xc*invstd.
          const a = tf.mul(tf.reshape(tf.mul(sr, sgamma), bshape), sinvstd);
          const b = tf.mul(a, tf.mul(tf.square(sinvstd), tf.div(sumDyXc, -count)));
          const c = tf.mul(a, tf.div(sumDy, -count));
          const dx = tf.add(tf.add(tf.mul(g, a), tf.mul(sxc, b)), c);
          return [dx, dgamma, dbeta];
        },
      };
    });
    return op(x, gammaIn, betaIn);
  }

  /** Keras' updates, all from this batch's mean and std = sqrt(var + eps), after r and d were formed. */
  private updateMoments(mean: tf.Tensor, std: tf.Tensor, rRaw: tf.Tensor, dRaw: tf.Tensor): void {
    const ema = (v: tf.LayerVariable, value: tf.Tensor, momentum: number) => {
      const old = v.read();
      v.write(tf.sub(old, tf.mul(tf.sub(old, value), 1 - momentum)));
    };
    ema(this.renormMean, mean, this.renormMomentum);
    ema(this.renormStddev, std, this.renormMomentum);
    ema(this.movingMean, mean, this.momentum);
    ema(this.movingStddev, std, this.momentum);
    const ms = this.movingStddev.read();
    this.movingVariance.write(tf.relu(tf.sub(tf.mul(ms, ms), this.epsilon)));
    this.recordClip(rRaw, dRaw);
  }

  private recordClip(rRaw: tf.Tensor, dRaw: tf.Tensor): void {
    this.lastR?.dispose();
    this.lastD?.dispose();
    this.lastR = tf.keep(rRaw);
    this.lastD = tf.keep(dRaw);
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
    this.ones?.dispose();
    this.zeros?.dispose();
    this.lastR = this.lastD = this.ones = this.zeros = null;
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

function clipSymmetric(t: tf.Tensor, bound: number): tf.Tensor {
  return bound === Infinity ? t : tf.clipByValue(t, -bound, bound);
}
