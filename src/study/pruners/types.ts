// The pruner contract: one stateless decision per progress report, from the trial's own curve and one query of its peers.
import type { IntermediateValue, PeerQuery } from '../types.js';

export { isBetter } from '../../shared/best.js';

/** Values of the other search trials (see PeerQuery): the storage answers with one indexed query. */
export type Peers = (query: Omit<PeerQuery, 'exceptTrialId'>) => Promise<number[]>;

/**
 * Optuna-style: `shouldPrune` looks at the trial's stored curve and its peers' values and returns true when the
 * trial should stop early. Pruners keep no state of their own, so a resumed study (or a second process reading
 * the same database) makes the same decisions. Only search trials are ever asked about (see isPrunable).
 */
export interface Pruner {
  readonly name: string;
  shouldPrune(trial: { intermediate: readonly IntermediateValue[] }, peers: Peers): Promise<boolean>;
}

export function lastStep(t: { intermediate: readonly IntermediateValue[] }): number | undefined {
  let last: number | undefined;
  for (const iv of t.intermediate) if (last === undefined || iv.step > last) last = iv.step;
  return last;
}
