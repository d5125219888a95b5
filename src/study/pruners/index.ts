// Pruners of the study package, picked by name from the study config.
import type { Direction } from '../types.js';
import { ConfigError } from '../../errors.js';
import type { Pruner } from './types.js';
import { MedianPruner, type MedianPrunerOptions } from './median.js';
import { AshaPruner, type AshaPrunerOptions } from './asha.js';

export type { Pruner, Peers } from './types.js';
export { MedianPruner, type MedianPrunerOptions } from './median.js';
export { AshaPruner, type AshaPrunerOptions } from './asha.js';

export type PrunerSpec =
  | { type: 'none' }
  | ({ type: 'median' } & MedianPrunerOptions)
  | ({ type: 'asha' } & AshaPrunerOptions);

/** Never prunes: the default, so a study without a pruner config runs every trial to the end. */
export class NopPruner implements Pruner {
  readonly name = 'none';
  async shouldPrune(): Promise<boolean> {
    return false;
  }
}

export function createPruner(spec: PrunerSpec | undefined | null, direction: Direction): Pruner {
  const type = spec?.type ?? 'none';
  switch (type) {
    case 'none':
      return new NopPruner();
    case 'median':
      return new MedianPruner(direction, spec as MedianPrunerOptions);
    case 'asha':
      return new AshaPruner(direction, spec as AshaPrunerOptions);
    default:
      throw new ConfigError('pruner.type', `unknown pruner "${String(type)}"`, 'use "none", "median" or "asha"');
  }
}
