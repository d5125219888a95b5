// `renorm-tune run --json`: progress as JSON lines on stdout (one object per runner event, then the summary), for scripts and CI logs.
import type { StudyView, TrialSummary } from '../study/api_types.js';
import type { RunnerEvent } from '../study/runner.js';

/**
 * The same surface as ProgressDisplay, writing machine-readable lines instead of bars. Every line is one JSON
 * object with an `event` field: `phase`, `trial` (a trial changed state; no curve), `report` (a point of a curve),
 * `progress` (a training step of a running trial), `study`, then exactly one `summary`. Warnings go to stderr.
 */
export class JsonLinesDisplay {
  constructor(private readonly out: NodeJS.WritableStream = process.stdout, private readonly err: NodeJS.WritableStream = process.stderr) {}

  /** Trials finished before this run (a resume): one `trial` line each, so a reader sees the whole study. */
  seed(trials: readonly TrialSummary[]): void {
    for (const t of trials) this.line({ event: 'trial', resumed: true, studyId: t.studyId, trial: withoutCurve(t) });
  }

  handle(e: RunnerEvent): void {
    const { type, ...rest } = e;
    this.line({ event: type, ...rest });
  }

  /** The last line: what `run` prints as text, as one object (the study's state, counts, best, baselines, final validation). */
  summary(view: StudyView): void {
    const { trials: _trials, config: _config, ...summary } = view;
    this.line({ event: 'summary', ...summary });
  }

  log(line: string): void {
    this.err.write(`${line}\n`);
  }

  stop(): void {}

  private line(obj: Record<string, unknown>): void {
    this.out.write(`${JSON.stringify(obj)}\n`);
  }
}

function withoutCurve(t: TrialSummary & { intermediate?: unknown }): TrialSummary {
  const { intermediate: _curve, ...rest } = t;
  return rest;
}
