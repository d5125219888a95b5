// The optimizer contract (ask/tell with pending trials, Vizier-designer style) shared by every algorithm.
import type { AcquisitionName } from '../gp/acquisition.js';
import type { Direction, OptimizerKind } from '../shared/names.js';
export type { Direction } from '../shared/names.js';
import type { SearchSpace } from './space.js';

/** The optimizer's vocabulary: the study package builds on these, never the other way round. */
export type ParamValue = number | string;
export type Params = Record<string, ParamValue>;

export type { OptimizerKind } from '../shared/names.js';

export interface Suggestion {
  /** Opaque id to pass back to `tell`. */
  id: string;
  params: Params;
}

/** One dashboard slice: the GP along one parameter through a centre point, in the objective's own units. */
export interface GpSlice {
  name: string;
  type: 'float' | 'int' | 'categorical';
  log?: boolean;
  x: (number | string)[];
  mean: number[];
  std: number[];
  acquisition: number[];
}

/** Batch acquisition for a point asked while others are pending (earlier members of the batch included). */
export const BATCH_STRATEGIES = ['qlogei', 'kriging-believer', 'constant-liar'] as const;
export type BatchStrategy = (typeof BATCH_STRATEGIES)[number];

export interface OptimizerOptions {
  /** Parameter name -> spec; validated on construction. */
  space: SearchSpace;
  direction: Direction;
  /** Seed of every random choice (default 0). Same seed, same history -> same suggestions. */
  seed?: number;
  /** GP only: acquisition function (default 'logei'). */
  acquisition?: AcquisitionName;
  /** GP only: quasi-random (Sobol) trials before the GP takes over (default max(5, 2d - 2)). */
  initialTrials?: number;
  /**
   * GP only: how points are chosen while others are pending (default 'qlogei': Monte Carlo batch LogEI, sequential
   * greedy). 'kriging-believer' and 'constant-liar' condition on made-up values instead; UCB and PI always use
   * the kriging believer.
   */
  batch?: BatchStrategy;
  /** GP only: hand over to a local trust region when the global model stalls (default true). */
  trustRegion?: boolean;
  /** GP only: Yeo-Johnson output warp before fitting (default true). */
  outputWarp?: boolean;
  /** GP only: compress values a thousand interquartile ranges or more outside the study's others (a diverged run's 1e6 or 1e30) before the warp (default true; gp/tails.ts). */
  outputTails?: boolean;
  /** GP only: mix an additive (first-order) Matérn term into the kernel, its weight fitted (default true). */
  additiveKernel?: boolean;
  /** GP only: most observations the GP is conditioned on; beyond, the best quarter plus a seeded sample (default 500). */
  maxModelPoints?: number;
}

export interface Observation {
  params: Params;
  /** null: the trial failed. */
  value: number | null;
}

/**
 * The optimizer's best guess of the optimum among the observed points: lowest (highest when maximizing)
 * posterior mean, so one lucky noisy draw does not win (the winner's curse). In the objective's own units.
 */
export interface Recommendation {
  params: Params;
  /** Predicted value of the objective there (posterior mean of the noise-free objective). */
  mean: number;
  /** Posterior standard deviation of that prediction; null when the optimizer has no model (random search). */
  sd: number | null;
  /** The value measured there (the first observation of these params). */
  observed?: number;
}

/**
 * The parameters' importance under the model: each one's share of its posterior mean's variation, or, when that mean
 * is flat (all values equal, or differences the model reads as noise), the reason there are no shares.
 * `explained`: the mean's variance over the search space over the observed values' variance (src/optimizer/importance.ts).
 */
export type Importance =
  | {
      status: 'available';
      explained: number;
      /** Observations (finished trials, failures included) the model had when this was computed. */
      observations: number;
      shares: Record<string, number>;
      /** Parameters given a share (>= 0.05) that the trials do not yet need: fitted without one, the model explains them about as well. */
      tentative: string[];
    }
  | { status: 'flat'; explained: number; observations: number; reason: string };

export interface Optimizer {
  readonly name: OptimizerKind;
  /** `count` distinct suggestions, each registered as pending until told. */
  ask(count?: number): Promise<Suggestion[]>;
  /** Result of a suggestion or `addPending` id: a finite number, or null for a failed trial. */
  tell(id: string, value: number | null): Promise<void>;
  /** A result obtained elsewhere (warm start, or rebuilding from storage). */
  addObservation(params: Params, value: number | null): Promise<void>;
  /** Work already handed out (e.g. re-queued after a crash); returns an id that can be told later. */
  addPending(params: Params): string;
  /** Posterior mean, std and acquisition along each parameter through `center` (default: the best point); null when no model exists. */
  slices(center?: Params, points?: number): Promise<GpSlice[] | null>;
  /**
   * Best observed point by posterior mean, with its prediction and measured value; null before any finite
   * observation. Without a model (random search, or the GP during its initial design) it is the best measured
   * value, with mean = observed and sd null. `among`: only the observed points with these params (a study's tuned
   * trials, not its baselines), the model still fitted on all; null when none of them has a finite value.
   */
  recommend(among?: readonly Params[]): Promise<Recommendation | null>;
  /**
   * Share of the objective's variation each parameter accounts for (total-order Sobol indices of the GP posterior
   * mean, summing to 1), keyed by parameter name, or status 'flat' when the model sees no variation; null while too
   * few observations exist to fit a model.
   */
  importance(): Promise<Importance | null>;
  /** Releases what the optimizer holds (a worker thread); later calls reject. In-process optimizers hold nothing. */
  close(): Promise<void>;
}
