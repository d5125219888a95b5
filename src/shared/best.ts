// The one rule for "the best trial" of a study, used by the service, the export and the dashboard alike; browser-safe.
import type { Direction } from './names.js';
import { roleKind } from './roles.js';

/** The fields the rule reads; any trial record (server or browser) has them. */
export interface RankableTrial {
  number: number;
  state: string;
  role: string;
  value: number | null;
}

/** A finished search or baseline trial with a finite value: final-validation reruns and warm starts never compete. */
export function isCandidate(t: RankableTrial): boolean {
  const kind = roleKind(t.role);
  return t.state === 'COMPLETE' && typeof t.value === 'number' && Number.isFinite(t.value) && (kind === 'search' || kind === 'baseline');
}

/** True when `a` is strictly better than `b` in `direction`. */
export function isBetter(a: number, b: number, direction: Direction): boolean {
  return direction === 'maximize' ? a > b : a < b;
}

/** Best first; ties go to the earlier trial (lower number), so the answer never flips on a re-read. */
export function compareTrials(a: RankableTrial, b: RankableTrial, direction: Direction): number {
  if (isBetter(a.value!, b.value!, direction)) return -1;
  if (isBetter(b.value!, a.value!, direction)) return 1;
  return a.number - b.number;
}

/** The best candidate, baselines included (an honest study can find that plain BatchNorm wins), or undefined. */
export function bestTrial<T extends RankableTrial>(trials: readonly T[], direction: Direction): T | undefined {
  let best: T | undefined;
  for (const t of trials) if (isCandidate(t) && (!best || compareTrials(t, best, direction) < 0)) best = t;
  return best;
}

/** Candidates best first. */
export function rankTrials<T extends RankableTrial>(trials: readonly T[], direction: Direction): T[] {
  return trials.filter(isCandidate).sort((a, b) => compareTrials(a, b, direction));
}

/** The first finished value of each baseline, or null while it has not completed (or failed). */
export function baselineValues(trials: readonly RankableTrial[]): { batchnorm: number | null; paper: number | null } {
  const first = (role: string) => {
    let found: RankableTrial | undefined;
    for (const t of trials) if (t.role === role && isCandidate(t) && (!found || t.number < found.number)) found = t;
    return found ? found.value : null;
  };
  return { batchnorm: first('baseline:batchnorm'), paper: first('baseline:paper') };
}
