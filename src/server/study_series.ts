// The storage's series of a /metrics scrape (trials by state, budget, best value per study, and whether the storage
// answered), written straight to Prometheus's text format (0.0.4). prom-client's gauges hash every label set and
// keep it in a map: at 2,000 studies (14,000 series) that took 50-100 ms to fill and 50-60 ms more to print, all on
// the event loop, for numbers thrown away after the scrape. Printed here, the same text costs a few milliseconds.
import { METRICS_PREFIX } from '../process_metrics.js';
import { FINISHED_STATES, OPEN_STATES } from '../shared/attempts.js';
import type { StudySummary } from '../study/api_types.js';

const TRIAL_STATES = [...OPEN_STATES, ...FINISHED_STATES] as const;

/** What a scrape read from the storage: the study list, or undefined when it could not be read in time. */
export interface StorageRead {
  studies: StudySummary[] | undefined;
  seconds: number;
}

const NEEDS_ESCAPE = /[\\\n"]/;

/** A label value as the exposition format quotes it: backslash, double quote and line feed escaped. */
function labelValue(v: string): string {
  return NEEDS_ESCAPE.test(v) ? v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"') : v;
}

/** `k="v",...` for labels whose values are given as they are. */
function labels(pairs: Record<string, string>): string {
  let out = '';
  for (const k in pairs) out += `${out ? ',' : ''}${k}="${labelValue(pairs[k]!)}"`;
  return out;
}

function sampleValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** One gauge family: its HELP and TYPE lines, then a line per sample. */
export class Family {
  private readonly lines: string[];

  constructor(private readonly name: string, help: string) {
    const full = `${METRICS_PREFIX}${name}`;
    this.lines = [`# HELP ${full} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${full} gauge`];
  }

  /** A sample; `labelText` as `labels` renders it (a study's own labels are rendered once for all its samples). */
  add(labelText: string, value: number): void {
    this.lines.push(`${METRICS_PREFIX}${this.name}${labelText ? `{${labelText}}` : ''} ${sampleValue(value)}`);
  }

  text(): string {
    return this.lines.join('\n');
  }
}

/** The storage's families, as the text of an exposition (families apart by a blank line, ending in a line feed). */
export function studySeries({ studies, seconds }: StorageRead): string {
  const up = new Family('storage_up', 'Whether the study list could be read from the storage for this scrape (1) or not (0)');
  up.add('', studies ? 1 : 0);
  const took = new Family('storage_read_seconds', 'Time this scrape took to read the study list from the storage');
  took.add('', seconds);
  const families = [up, took];
  if (studies) {
    const info = new Family('study_info', 'One series per study, with its state, executor and direction as labels');
    const trials = new Family('study_trials', 'Trials of a study in each state');
    const budget = new Family('study_budget_trials', 'A study\'s trials budget (baselines included); absent with only a time budget');
    const best = new Family('study_best_value', 'The value of a study\'s best trial among its search trials and baselines (as `renorm-tune studies` lists it); absent before one completes');
    for (const s of studies) {
      const who = labels({ study: s.name, study_id: s.id });
      info.add(`${who},${labels({ state: s.state, executor: s.executor, direction: s.direction })}`, 1);
      for (const state of TRIAL_STATES) trials.add(`${who},state="${state}"`, s.counts[state] ?? 0);
      if (s.budgetTrials !== null) budget.add(who, s.budgetTrials);
      if (s.best) best.add(who, s.best.value);
    }
    families.push(info, trials, budget, best);
  }
  return `${families.map((f) => f.text()).join('\n\n')}\n`;
}
