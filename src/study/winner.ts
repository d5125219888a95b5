// Which schedule a study recommends, and how sure it is: the paired final verdicts when there are any, said in words.
import { rankTrials } from '../shared/best.js';
import { ARM_LABELS, comparisonSentence, readFinalValidation, type Comparison, type FinalReading } from '../shared/evidence.js';
import { isFinished } from '../shared/attempts.js';
import { baselineOf, roleKind, type BaselineName } from '../shared/roles.js';
import { pickerFor } from './evidence.js';
import { baselineSources } from './final.js';
import { configOf } from './service.js';
import type { StudyRecord, TrialRecord } from './types.js';

export type Winner = 'tuned' | BaselineName | null;

export interface StudyRecommendation {
  /** The trial whose schedule is recommended. */
  trial: TrialRecord;
  /** 'tuned' only when the evidence says so; a baseline when it was not beaten; null when no baseline was measured. */
  winner: Winner;
  /** `paired-final`: paired verdicts on fresh test-set seeds; `search`: single validation runs, no interval; `none`: nothing to compare with. */
  evidence: 'paired-final' | 'search' | 'none';
  /** The outcome in one or two sentences. */
  verdict: string;
  /** The tuned schedule the study would have sent to final validation (it may not be the recommendation). */
  tuned: TrialRecord | null;
  /** The paired comparisons at the study's run length, when final validation ran. */
  comparisons: Comparison[];
}

/**
 * The tuned pick (the race winner, or the best search value while no race has decided) weighed against the
 * baselines. A tuned schedule is recommended only if final validation found it better than every baseline it was
 * compared with; otherwise the baseline it did not beat (the better one by test mean) is recommended, since it is
 * the simpler choice and the tuning showed no gain over it. Null when no trial has completed.
 */
export function decideWinner(study: StudyRecord, trials: readonly TrialRecord[], modelPick: number | null = null): StudyRecommendation | null {
  const tuned = tunedPick(study, trials, modelPick);
  const baselines = baselineSources(trials);
  const reading = readFinalValidation(study.attrs.finalValidation);
  // Final validation retrains every baseline, one whose search run failed too: its paired verdicts stand.
  const paired = reading?.paired && reading.pending === 0 && tuned && reading.bestTrialNumber === tuned.number ? reading : null;
  const arms = baselineSources(trials, true);
  if (paired && tuned && Object.keys(arms).length > 0) return fromFinal(paired, tuned, arms);
  const measured = (Object.keys(baselines) as BaselineName[]).length > 0;

  if (!measured) {
    if (!tuned) return null;
    const why = configOf(study).baselines ? 'the baselines did not complete' : 'the study opted out with baselines: false';
    return {
      trial: tuned, winner: null, evidence: 'none', tuned, comparisons: [],
      verdict: `no baseline measured (${why}): nothing says whether the tuned schedule (#${tuned.number}) beats BatchNorm or the paper's schedule`,
    };
  }
  return fromSearch(study, tuned, baselines, reading, failedBaselines(trials));
}

function fromFinal(reading: FinalReading, tuned: TrialRecord, baselines: Partial<Record<BaselineName, TrialRecord>>): StudyRecommendation {
  const own = reading.groups.find((g) => g.multiplier === 1) ?? reading.groups[0]!;
  const comparisons = own.comparisons;
  const said = comparisons.map((c) => comparisonSentence(c, reading.fraction)).join('; ');
  const notBeaten = comparisons.filter((c) => c.verdict !== 'better' && baselines[c.b]);
  if (notBeaten.length === 0 && comparisons.length > 0) {
    return { trial: tuned, winner: 'tuned', evidence: 'paired-final', tuned, comparisons, verdict: `the tuned schedule (#${tuned.number}) is ${said}, on the test set` };
  }
  // The baseline the tuning did not beat; between two, the one with the better test mean.
  const sign = reading.direction === 'maximize' ? 1 : -1;
  const mean = (b: BaselineName) => sign * (own.arms[b]?.mean ?? -sign * Infinity);
  const pick = [...notBeaten].sort((x, y) => mean(y.b) - mean(x.b))[0];
  const b = pick?.b ?? (Object.keys(baselines) as BaselineName[])[0]!;
  const why = comparisons.length ? said : 'no paired comparison could be made';
  return {
    trial: baselines[b]!, winner: b, evidence: 'paired-final', tuned, comparisons,
    verdict: `the tuned schedule (#${tuned.number}) was not shown to beat ${ARM_LABELS[b]} (${why}); recommending ${ARM_LABELS[b]} instead`,
  };
}

/** The baselines whose search run ended without a value (failed): the search compared nothing with them. */
function failedBaselines(trials: readonly TrialRecord[]): BaselineName[] {
  const all = baselineSources(trials, true);
  return (Object.keys(all) as BaselineName[]).filter((b) => isFinished(all[b]!.state) && all[b]!.state !== 'COMPLETE');
}

function fromSearch(study: StudyRecord, tuned: TrialRecord | null, baselines: Partial<Record<BaselineName, TrialRecord>>, reading: FinalReading | null, failed: BaselineName[]): StudyRecommendation {
  const contenders = [...(tuned ? [tuned] : []), ...Object.values(baselines)];
  const best = rankTrials(contenders, study.direction)[0]!;
  const b = baselineOf(best.role);
  const fmt = (t: TrialRecord) => `${t === tuned ? `tuned #${t.number}` : ARM_LABELS[baselineOf(t.role)!]} ${t.value!.toFixed(4)}`;
  const why = !tuned
    ? 'no tuned schedule completed'
    : reading && !reading.paired
      ? 'this study\'s final validation predates pairing and gives no verdict'
      : reading && reading.pending > 0
        ? 'final validation is still running'
        : 'no final validation ran';
  const unmeasured = failed.length ? `; ${failed.map((f) => ARM_LABELS[f]).join(' and ')} ${failed.length > 1 ? 'were' : 'was'} not compared (${failed.length > 1 ? 'their search runs' : 'its search run'} failed)` : '';
  return {
    trial: best, winner: b ?? 'tuned', evidence: 'search', tuned, comparisons: [],
    verdict: `${b ? ARM_LABELS[b] : `the tuned schedule (#${best.number})`} scored best in the search (${contenders.map(fmt).join(', ')}): single validation runs, no interval, ${why}${unmeasured}`,
  };
}

/**
 * The recorded pick of final validation; else, racing, the race's pick once decided and the model's (posterior
 * mean) before that; without a race the model's pick; else the best search value.
 */
function tunedPick(study: StudyRecord, trials: readonly TrialRecord[], modelPick: number | null): TrialRecord | null {
  const source = study.attrs.finalValidationSource as { best?: unknown } | undefined;
  const recorded = typeof source?.best === 'number' ? trials.find((t) => t.id === source.best && t.state === 'COMPLETE') : undefined;
  if (recorded) return recorded;
  const picker = pickerFor(configOf(study), study.direction);
  const byModel = modelPick !== null ? trials.find((t) => t.id === modelPick && t.state === 'COMPLETE' && roleKind(t.role) === 'search') : undefined;
  // Without a race the model's pick beats the single best value, as it does for the final runs (advanceEvidence).
  if (byModel && picker.name !== 'race') return byModel;
  const state = picker.pick(trials);
  const id = state.ready ? state.pick?.trialId : undefined;
  return (id != null ? trials.find((t) => t.id === id) : undefined) ?? byModel ?? rankTrials(trials.filter((t) => roleKind(t.role) === 'search'), study.direction)[0] ?? null;
}
