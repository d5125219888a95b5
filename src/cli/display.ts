// Terminal progress for `renorm-tune run`: live bars on a TTY, plain lines otherwise (CI logs, pipes).
import cliProgress from 'cli-progress';
import { baselineValues, bestTrial } from '../shared/best.js';
import { printable } from '../shared/printable.js';
import { roleKind, roleLabel } from '../shared/roles.js';
import type { TrialSummary } from '../study/api_types.js';
import type { EvidenceSteps } from '../study/evidence.js';
import type { RecoveredTrial, RunnerEvent } from '../study/runner.js';
import type { Direction } from '../study/types.js';
import { fmt } from './final_table.js';

export interface DisplayOptions {
  stream: NodeJS.WriteStream;
  metric: string;
  direction: Direction;
  budgetTrials: number | null;
}

/** `#3`, or `#0 BatchNorm` for a baseline: the trial's number is its one visible identity, everywhere. */
const name = (t: { number: number; role: string }) => `#${t.number}${t.role === 'search' ? '' : ` ${roleLabel(t.role)}`}`;

/**
 * Consumes runner events. Keeps the scoreboard (best so far vs the two baselines) itself, so it needs no
 * storage access and shows the same numbers whether the study is new or resumed.
 */
export class ProgressDisplay {
  private readonly tty: boolean;
  private readonly multi: cliProgress.MultiBar | undefined;
  private readonly study: cliProgress.SingleBar | undefined;
  private readonly bars = new Map<number, cliProgress.SingleBar>();
  private readonly finished = new Map<number, TrialSummary>();
  private readonly lastLine = new Map<number, number>();

  constructor(private readonly opts: DisplayOptions) {
    this.tty = Boolean(opts.stream.isTTY);
    if (this.tty) {
      this.multi = new cliProgress.MultiBar(
        { stream: opts.stream, clearOnComplete: false, hideCursor: true, format: ' {what} |{bar}| {value}/{total} {info}', autopadding: true },
        cliProgress.Presets.shades_classic,
      );
      this.study = this.multi.create(opts.budgetTrials ?? 0, 0, { what: 'study      ', info: '' });
    }
  }

  /** Trials already finished before this run (a resume), so the scoreboard starts right. */
  seed(trials: readonly TrialSummary[]): void {
    for (const t of trials) if (isDone(t)) this.finished.set(t.id, t);
    this.updateStudy();
  }

  handle(e: RunnerEvent): void {
    if (e.type === 'phase') {
      // Every tuned trial seen ended without a value: there is nothing to race or retrain, whatever the config says.
      const tuned = [...this.finished.values()].filter((t) => roleKind(t.role) === 'search');
      const none = tuned.length > 0 && !tuned.some((t) => t.state === 'COMPLETE');
      const evidence = none ? 'evidence: nothing to race or retrain (no tuned trial completed)' : evidenceLine(e.evidence);
      const what = { search: e.resumed ? 'continuing the study' : 'searching', final: evidence, done: 'done', stopped: 'stopped; run the same command again to resume' }[e.phase];
      this.log(`[study] ${what}`);
      for (const t of e.recovered ?? []) this.log(recoveredLine(t));
      return;
    }
    if (e.type === 'progress') {
      const p = e.progress;
      const v = p[this.opts.metric];
      if (this.tty) {
        let bar = this.bars.get(e.trialId);
        if (!bar) this.bars.set(e.trialId, (bar = this.multi!.create(p.totalSteps, 0, { what: `trial ${name(e)}`.padEnd(11).slice(0, 22), info: '' })));
        bar.setTotal(p.totalSteps);
        bar.update(p.step, { info: `${this.opts.metric} ${fmt(typeof v === 'number' ? v : null)}${e.seeds > 1 ? ` seed ${e.seedIndex + 1}/${e.seeds}` : ''}` });
      } else if (p.step === p.totalSteps || Date.now() - (this.lastLine.get(e.trialId) ?? 0) > 5000) {
        this.lastLine.set(e.trialId, Date.now());
        this.log(`  trial ${name(e)}: step ${p.step}/${p.totalSteps} ${this.opts.metric} ${fmt(typeof v === 'number' ? v : null)}`);
      }
      return;
    }
    if (e.type === 'trial' && e.trial && isDone(e.trial)) {
      const t = e.trial;
      this.finished.set(t.id, t);
      const bar = this.bars.get(t.id);
      if (bar) {
        this.multi!.remove(bar);
        this.bars.delete(t.id);
      }
      // Final-validation runs are scored on the test set, so their value is not the search metric.
      const metric = roleKind(t.role) === 'final' ? 'testAccuracy' : this.opts.metric;
      const what = t.state === 'FAIL' ? `FAIL (${printable(t.failureReason ?? 'no reason recorded')})` : `${t.state} ${metric} ${fmt(t.value)}`;
      this.log(`trial ${name(t)} ${what}   ${this.scoreboard()}`);
      this.updateStudy();
    }
  }

  stop(): void {
    this.multi?.stop();
  }

  log(line: string): void {
    if (this.multi) this.multi.log(`${line}\n`);
    else this.opts.stream.write(`${line}\n`);
  }

  private scoreboard(): string {
    const all = [...this.finished.values()];
    const best = bestTrial(all, this.opts.direction);
    const base = baselineValues(all);
    return `best ${best ? `${fmt(best.value)} (${name(best)})` : '—'} | batchnorm ${fmt(base.batchnorm)} | paper ${fmt(base.paper)}`;
  }

  private updateStudy(): void {
    if (!this.study) return;
    const n = [...this.finished.values()].filter((t) => roleKind(t.role) === 'search' || roleKind(t.role) === 'baseline').length;
    this.study.setTotal(this.opts.budgetTrials ?? Math.max(n, 1));
    this.study.update(n, { info: this.scoreboard() });
  }
}

/** Said on resume for each trial a dead run (killed, crashed) left RUNNING. */
export function recoveredLine(t: RecoveredTrial): string {
  const what = t.state === 'WAITING' ? `queued again (retry ${t.retries})` : `${t.state}: ${printable(t.failureReason ?? 'no reason recorded')}`;
  return `[study] trial ${name(t)} was left RUNNING by a run that is gone (killed, or crashed): ${what}`;
}

/** The evidence phase as this study's config has it: a race, final runs, or both (the phase is skipped when neither). */
export function evidenceLine(steps: EvidenceSteps | undefined): string {
  if (!steps) return 'evidence';
  const { race, finalRuns } = steps;
  const seedCount = (n: number, what: string) => `${n} ${what} seed${n === 1 ? '' : 's'}`;
  const racing = race ? `racing the top ${race.candidates} tuned schedules on ${seedCount(race.seeds, 'fresh validation')} each` : '';
  const who = `${race ? 'the winner' : 'the recommended tuned schedule'}${finalRuns?.baselines ? ' and both baselines' : ''}`;
  const seeds = finalRuns ? `${finalRuns.baselines ? 'the same ' : ''}${seedCount(finalRuns.seeds, 'fresh')}` : '';
  const retraining = finalRuns ? `retraining ${who} on ${seeds} (test set)` : '';
  if (race && finalRuns) return `evidence: ${racing}, then ${retraining}`;
  if (race) return `evidence: ${racing} (no final runs: finalValidation.seeds is 0)`;
  if (finalRuns) return `evidence: ${retraining}`;
  return 'evidence: none (no race, no final runs)';
}

function isDone(t: TrialSummary): boolean {
  return t.state === 'COMPLETE' || t.state === 'PRUNED' || t.state === 'FAIL';
}
