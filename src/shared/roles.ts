// A trial's role in its study (search, baseline, final-validation arm, warm start) and the rules that follow from it; browser-safe.

/** The two yardsticks every study measures itself against. */
export const BASELINES = ['batchnorm', 'paper'] as const;
export type BaselineName = (typeof BASELINES)[number];

/**
 * How people see each baseline, in every place that names one: `title` in a legend, a table or a chart's category;
 * `label` inside a line of text; `short` on an axis (`vs paper`); `prose` in a verdict sentence.
 */
export const BASELINE_LABELS: Readonly<Record<BaselineName, { title: string; label: string; short: string; prose: string }>> = {
  batchnorm: { title: 'BatchNorm', label: 'BatchNorm', short: 'BatchNorm', prose: 'BatchNorm' },
  paper: { title: 'Paper (Ioffe 2017)', label: 'paper (Ioffe 2017)', short: 'paper', prose: 'the paper schedule' },
};

/**
 * - `search`: proposed by the optimizer; `enqueued`: a schedule the user queued by hand (evaluated like a search trial);
 * - `baseline:batchnorm` / `baseline:paper`: the automatic yardsticks (they compete for "best" too);
 * - `race:<n>`: after the search, tuned trial #n re-measured on a fresh seed (validation set) to pick the schedule
 *   that goes to final validation by more than one noisy value (free, never "best" itself, never fed to the optimizer);
 * - `final:<arm>`: a final-validation rerun of an arm on a fresh seed, scored on the test set (never a search result);
 *   `final:<arm>@x<m>` is the same at m times the run length;
 * - `warm-start`: an observation copied from an earlier study (feeds the optimizer, costs no budget, never "best").
 */
export type TrialRole = 'search' | 'enqueued' | 'warm-start' | `baseline:${BaselineName}` | `race:${number}` | `final:${string}`;

export type RoleKind = 'search' | 'baseline' | 'race' | 'final' | 'warm-start';

const ARM = /^[A-Za-z0-9_.@:-]{1,64}$/;
const RACE = /^race:\d{1,9}$/;

/** Throws nothing: anything unrecognised (a newer version's role, a corrupt row) reads as a plain search trial. */
export function roleKind(role: string): RoleKind {
  if (role === 'baseline:batchnorm' || role === 'baseline:paper') return 'baseline';
  if (role.startsWith('final:')) return 'final';
  if (RACE.test(role)) return 'race';
  if (role === 'warm-start') return 'warm-start';
  return 'search';
}

export function isValidRole(role: unknown): role is TrialRole {
  if (typeof role !== 'string') return false;
  if (role === 'search' || role === 'enqueued' || role === 'warm-start' || role === 'baseline:batchnorm' || role === 'baseline:paper') return true;
  if (RACE.test(role)) return true;
  return role.startsWith('final:') && ARM.test(role.slice(6));
}

export function baselineRole(name: BaselineName): TrialRole {
  return `baseline:${name}`;
}

/** `batchnorm` / `paper` for a baseline trial, else null. */
export function baselineOf(role: string): BaselineName | null {
  return role === 'baseline:batchnorm' ? 'batchnorm' : role === 'baseline:paper' ? 'paper' : null;
}

export function finalRole(arm: string): TrialRole {
  return `final:${arm}`;
}

/** The race run of tuned trial #`number`. */
export function raceRole(number: number): TrialRole {
  return `race:${number}`;
}

/** The number of the tuned trial a race run re-measures, else null. */
export function raceOf(role: string): number | null {
  return RACE.test(role) ? Number(role.slice(5)) : null;
}

/** The arm of a final-validation run (`best`, `paper`, `batchnorm`, ...), else null. */
export function finalArmOf(role: string): string | null {
  return role.startsWith('final:') ? role.slice(6) : null;
}

/** Counts against `budget.trials`: everything the search spent (baselines included); final reruns and warm starts are free. */
export function countsTowardBudget(role: string): boolean {
  const k = roleKind(role);
  return k === 'search' || k === 'baseline';
}

/** A run of the evidence phase after the search: a race run or a final-validation run. */
export function isEvidenceRole(role: string): boolean {
  const k = roleKind(role);
  return k === 'race' || k === 'final';
}

/** Results the optimizer learns from (when the trial has params in the space): search, enqueued, baselines, warm starts. */
export function feedsOptimizer(role: string): boolean {
  return !isEvidenceRole(role);
}

/** May the pruner stop it? Only search trials: baselines are the yardstick and final runs are the verdict. */
export function isPrunable(role: string): boolean {
  return role === 'search' || role === 'enqueued';
}

/** A short name for people: `BatchNorm`, `paper`, `final best`, `search`. */
export function roleLabel(role: string): string {
  const b = baselineOf(role);
  if (b) return BASELINE_LABELS[b].label;
  const arm = finalArmOf(role);
  if (arm !== null) return `final ${arm}`;
  const raced = raceOf(role);
  if (raced !== null) return `race #${raced}`;
  return role;
}
