// Which trials the study page draws curves for, one rule for the page and for the server's lean view (curves=top),
// so the view sends exactly the curves the page draws; browser-safe.
import { isOpen } from './attempts.js';
import { compareTrials, isCandidate, type RankableTrial } from './best.js';
import { baselineOf } from './roles.js';
import type { Direction } from './names.js';

/** The learning-curve charts draw this many of the best search trials (and the baselines). */
export const CURVE_CHART_TRIALS = 8;

/** The trials whose curves the study page holds and draws (curveTrials), in words for its notes. */
export const CHARTED_TRIALS_TEXT = `the best ${CURVE_CHART_TRIALS} search trials, the baselines and any unfinished trial`;

/**
 * The best `n` search trials (best first, as rankTrials orders them) plus the baselines (each at most once, by
 * number), so a chart stays readable with hundreds of trials. One pass, keeping the best `n` so far: sorting a
 * 100,000-trial study to take 8 held the server's event loop for 90 ms.
 */
export function topTrialsWithBaselines<T extends RankableTrial>(trials: readonly T[], direction: Direction, n: number): T[] {
  const top: T[] = [];
  const baselines: T[] = [];
  for (const t of trials) {
    if (baselineOf(t.role) !== null) baselines.push(t);
    else if (n > 0 && isCandidate(t) && (top.length < n || compareTrials(t, top[top.length - 1]!, direction) < 0)) {
      if (top.length === n) top.pop();
      let i = top.length;
      while (i > 0 && compareTrials(t, top[i - 1]!, direction) < 0) i--;
      top.splice(i, 0, t);
    }
  }
  return [...top, ...baselines.sort((a, b) => a.number - b.number)];
}

/**
 * The trials whose curves the study page may draw without asking for them: the charted ones (the curve charts'
 * best trials and the baselines; the schedule chart and the default clip chart draw a subset), and every trial
 * not finished yet, whose curves grow by events. A finished trial outside them never enters them later (its value
 * is fixed, and newer trials start unfinished), so the page fetches the others only when one is opened.
 */
export function curveTrials<T extends RankableTrial>(trials: readonly T[], direction: Direction): T[] {
  const charted = new Set(topTrialsWithBaselines(trials, direction, CURVE_CHART_TRIALS));
  return trials.filter((t) => charted.has(t) || isOpen(t.state));
}
