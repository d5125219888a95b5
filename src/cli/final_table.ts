// The final-validation report as terminal lines (for `run`'s summary and `show`): arms, intervals and verdicts in words.
import { comparisonSentence, FINAL_ARMS, multiplierLabel, readFinalValidation } from '../shared/evidence.js';

/** A metric value with 4 decimals, or a dash when there is none. */
export const fmt = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(4) : '—');

/**
 * The closing table: each arm's test mean and 95% interval at every run length, then the paired verdicts in words.
 * A report stored before pairing is shown as it was, with no verdict.
 */
export function finalTable(fv: unknown): string[] {
  const r = readFinalValidation(fv);
  if (!r) return ['final validation: not run (finalValidation.seeds = 0, or the study stopped early)'];
  const fmtCi = (ci: [number, number] | null) => (ci ? `[${fmt(ci[0])}, ${fmt(ci[1])}]` : 'n/a (under 2 seeds)');
  const lines = r.paired
    ? [`final validation on the test set (${r.metric}; every arm on the same ${r.seeds.length} fresh seeds; mean and 95% CI${r.pending ? `; provisional, ${r.pending} runs to go` : ''}):`]
    : ['final validation on the test set (test accuracy, fresh seeds; mean and 95% t-interval; stored before pairing: unpaired, no verdict):'];
  for (const g of r.groups) {
    const indent = r.groups.length > 1 ? '    ' : '  ';
    if (r.groups.length > 1) lines.push(`  at ${g.multiplier === 1 ? 'the study\'s run length' : `${multiplierLabel(g)}`}:`);
    for (const arm of FINAL_ARMS) {
      const s = g.arms[arm];
      if (!s) continue;
      const label = arm === 'best' && r.bestTrialNumber !== null ? `best (#${r.bestTrialNumber})` : arm;
      lines.push(`${indent}${label.padEnd(12)} ${fmt(s.mean)}  ${fmtCi(s.ci)}  n=${s.n}`);
    }
    for (const c of g.comparisons) lines.push(`${indent}tuned vs ${c.b.padEnd(9)} ${comparisonSentence(c, r.fraction)}`);
  }
  return lines;
}
