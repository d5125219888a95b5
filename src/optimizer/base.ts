// Common shell of every in-process optimizer: option checks, ask = suggest + register pending, tell, and the defaults of recommend/close.
import { ConfigError } from '../errors.js';
import { ACQUISITIONS, type AcquisitionName } from '../shared/names.js';
import { expectInt, expectObject, expectOneOf } from '../config/fields.js';
import { Rng, mixSeed } from '../gp/rng.js';
import type { Tails } from '../gp/tails.js';
import { ImportanceMemo, modelImportance } from './importance.js';
import { buildModel, DEFAULT_MAX_MODEL_POINTS, type Model } from './model.js';
import { TrialLedger, type EncodedObservation } from './ledger.js';
import { EncodedSpace, validateSpace } from './space.js';
import { BATCH_STRATEGIES, type BatchStrategy, type GpSlice, type Importance, type Optimizer, type OptimizerKind, type OptimizerOptions, type Params, type Recommendation, type Suggestion } from './types.js';

/** Upper bound on one ask: a batch larger than this is almost certainly a bug in the caller. */
export const MAX_BATCH = 1000;

/**
 * Quasi-random trials before the GP: max(5, 2d - 2). With d + 1 (7 in 6-D) the GP on Hartmann6 got stuck in
 * a side basin in 3/10 seeds more often than with 10 (median regret 0.06 vs 0.0004 after 60 evals, 10 seeds).
 */
export function defaultInitialTrials(d: number): number {
  return Math.max(5, 2 * d - 2);
}

export interface ResolvedOptions {
  space: EncodedSpace;
  direction: 'minimize' | 'maximize';
  seed: number;
  acquisition: AcquisitionName;
  initialTrials: number;
  batch: BatchStrategy;
  trustRegion: boolean;
  outputWarp: boolean;
  outputTails: boolean;
  additiveKernel: boolean;
  maxModelPoints: number;
}

function expectBool(v: unknown, field: string, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new ConfigError(field, `must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

export function resolveOptions(raw: OptimizerOptions, field = 'optimizer'): ResolvedOptions {
  expectObject(raw, field, 'give {"space": {...}, "direction": "maximize"}');
  const space = new EncodedSpace(validateSpace(raw.space, `${field}.space`));
  const direction = expectOneOf(raw.direction, `${field}.direction`, ['minimize', 'maximize'] as const);
  const seed = expectInt(raw.seed ?? 0, `${field}.seed`, 0);
  const acquisition = expectOneOf(raw.acquisition ?? 'logei', `${field}.acquisition`, ACQUISITIONS);
  const initialTrials = expectInt(raw.initialTrials ?? defaultInitialTrials(space.d), `${field}.initialTrials`, 1);
  const batch = expectOneOf(raw.batch ?? 'qlogei', `${field}.batch`, BATCH_STRATEGIES);
  const trustRegion = expectBool(raw.trustRegion, `${field}.trustRegion`, true);
  const outputWarp = expectBool(raw.outputWarp, `${field}.outputWarp`, true);
  const outputTails = expectBool(raw.outputTails, `${field}.outputTails`, true);
  const additiveKernel = expectBool(raw.additiveKernel, `${field}.additiveKernel`, true);
  // Below ~20 points a GP says little; above a few thousand one fit takes minutes.
  const maxModelPoints = expectInt(raw.maxModelPoints ?? DEFAULT_MAX_MODEL_POINTS, `${field}.maxModelPoints`, 20, 5000);
  return { space, direction, seed, acquisition, initialTrials, batch, trustRegion, outputWarp, outputTails, additiveKernel, maxModelPoints };
}

export abstract class BaseOptimizer implements Optimizer {
  abstract readonly name: OptimizerKind;
  protected readonly opts: ResolvedOptions;
  protected readonly ledger: TrialLedger;

  constructor(options: OptimizerOptions) {
    this.opts = resolveOptions(options);
    this.ledger = new TrialLedger(this.opts.space);
  }

  get space(): EncodedSpace {
    return this.opts.space;
  }

  /**
   * `count` distinct proposals given everything observed and pending, without changing any state (Vizier's
   * designer rule: suggesting never mutates what tell owns). Randomness depends only on the history, never on
   * how many asks came before. The one dependence on the path is the GP's warm start (the last fit's hyperparameters
   * are one of its starts): an optimizer rebuilt from the same observations and pending trials fits cold, so it makes
   * the same first model proposal, but after later fits it may propose otherwise (2 of 6 Hartmann6 seeds after 16 trials).
   */
  abstract suggest(count: number): Params[];

  async ask(count = 1): Promise<Suggestion[]> {
    expectInt(count, 'count', 1, MAX_BATCH);
    return this.suggest(count).map((params) => ({ id: this.ledger.addPending(params, false), params }));
  }

  /** The rng for batch member `b` of the next ask. */
  protected rngFor(b: number): Rng {
    return new Rng(this.opts.seed, mixSeed(this.ledger.observations.length, this.ledger.pending.size + b));
  }

  /** Falls back to random draws if a proposal repeats a known point or an earlier batch member (possible in small discrete spaces). */
  protected distinct(params: Params, rng: Rng, taken: Set<string>): Params {
    let p = params;
    const known = (q: Params) => this.ledger.has(q) || taken.has(this.space.key(q));
    for (let tries = 0; tries < 200 && known(p); tries++) p = this.space.decode(this.space.sampleUniform(rng));
    return p;
  }

  async tell(id: string, value: number | null): Promise<void> {
    this.ledger.tell(id, value);
  }

  async addObservation(params: Params, value: number | null): Promise<void> {
    this.ledger.addObservation(params, value);
  }

  addPending(params: Params): string {
    return this.ledger.addPending(params);
  }

  /** A pending trial under an id assigned elsewhere: how the worker-thread host mirrors its main-side record. */
  addPendingWithId(id: string, params: Params): void {
    this.ledger.addPendingWithId(id, params);
  }

  abstract slices(center?: Params, points?: number): Promise<GpSlice[] | null>;
  abstract recommend(among?: readonly Params[]): Promise<Recommendation | null>;
  private readonly importanceMemo = new ImportanceMemo();

  /** The parameters' importance under the model of the observations (kept a while on large studies: ImportanceMemo). */
  async importance(): Promise<Importance | null> {
    if (!this.modelReady()) return null;
    const n = this.ledger.observations.length;
    return this.importanceMemo.get(n, () => modelImportance(this.space, this.importanceModel(), this.opts.seed, n));
  }

  /** The fitted model of every observation that importance reads. */
  protected abstract importanceModel(): Model;

  /** True once enough finished trials exist to fit a GP: as many as the initial design, two of them with a value. */
  protected modelReady(): boolean {
    const obs = this.ledger.observations;
    return obs.length >= this.opts.initialTrials && obs.filter((o) => o.value !== null).length >= 2;
  }

  /** The GP of `observations` under this optimizer's model options (subset size, output warp, additive term). */
  /** `tails`: the outlier compression to use (a local model passes its global model's); default, fitted to these values. */
  protected fitModel(observations: readonly EncodedObservation[], seed: number, warm: Float64Array | null, tails?: Tails | null): Model {
    return buildModel(this.space, observations, this.opts.direction, {
      seed, warm, maxPoints: this.opts.maxModelPoints, warp: this.opts.outputWarp, additive: this.opts.additiveKernel,
      tails: this.opts.outputTails && (tails === undefined ? true : tails),
    });
  }

  /** The best observed point by its measured value: the recommendation of an optimizer without a model. */
  protected bestObserved(among?: readonly Params[]): Recommendation | null {
    const sign = this.opts.direction === 'maximize' ? -1 : 1;
    const allowed = this.allowed(among);
    let best: Recommendation | null = null;
    for (const o of this.ledger.observations) {
      if (o.value === null || !allowed(o.params)) continue;
      if (!best || sign * o.value < sign * best.mean) best = { params: { ...o.params }, mean: o.value, sd: null, observed: o.value };
    }
    return best;
  }

  /** recommend()'s `among` as a test on an observation's params (every point passes when it is absent). */
  protected allowed(among?: readonly Params[]): (params: Params) => boolean {
    if (!among) return () => true;
    const keys = new Set(among.map((p) => this.space.key(p)));
    return (params) => keys.has(this.space.key(params));
  }

  async close(): Promise<void> {}
}
