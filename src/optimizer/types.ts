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
}

export interface Observation {
  params: Params;
  /** null: the trial failed. */
  value: number | null;
}

/** Everything needed to resume an optimizer exactly (`toJSON` / `fromJSON`). */
export interface OptimizerState {
  format: 'renorm-tune/optimizer';
  version: 1;
  name: OptimizerKind;
  options: Required<Pick<OptimizerOptions, 'space' | 'direction' | 'seed'>> & Pick<OptimizerOptions, 'acquisition' | 'initialTrials'>;
  observations: Observation[];
  pending: { id: string; params: Params }[];
  told: string[];
  nextId: number;
  /** GP only: hyperparameters of the last fit and how many observations it used. */
  fit?: { observations: number; theta: number[] } | null;
}

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
  toJSON(): OptimizerState;
}
