// Copying a study whole to another store (`renorm-tune copy`: from the embedded SQLite file to PostgreSQL to scale it
// out, or back): the snapshot taken of it, the trial ids its results name translated to the copy's, and the check that
// the copy reads back as the snapshot.
import { renamedConfig } from './storage/rules.js';
import type { SnapshotTrial, StudyRecord, StudySnapshot, TrialRecord } from './types.js';

/** A study as `StudyService.snapshot` takes it: the snapshot, and each source trial id's number (to translate ids). */
export interface StudyCopySource {
  id: string;
  /** The source's own name (the snapshot carries the copy's). */
  name: string;
  snapshot: StudySnapshot;
  requeued: number;
  numberOf: ReadonlyMap<number, number>;
}

/** What a copy made, for the CLI and its `--json`. */
export interface CopyReport {
  from: { id: string; name: string };
  to: { id: string; name: string };
  trials: number;
  /** Curve points copied. */
  points: number;
  /** Trials RUNNING in the source, queued again in the copy (a lease does not travel: they start over there). */
  requeued: number;
}

/**
 * The snapshot of `study` with `trials` (with their curves) and their keys, under `name`. A RUNNING trial goes in as
 * a hand-back leaves it: WAITING, its curve and prune request dropped, to start over wherever the copy is run.
 */
export function snapshotOf(study: StudyRecord, trials: readonly TrialRecord[], keys: ReadonlyMap<number, string>, name = study.name): { snapshot: StudySnapshot; requeued: number } {
  let requeued = 0;
  const out = trials.map((t): SnapshotTrial => {
    const { id, studyId: _study, lease: _lease, claims: _claims, ...fields } = t;
    const trial = { ...fields, key: keys.get(id) ?? null };
    if (t.state !== 'RUNNING') return trial;
    requeued++;
    return { ...trial, state: 'WAITING', startedAt: null, intermediate: [], pruneRequested: false };
  });
  const { id: _id, ...rest } = study;
  const config = name === study.name ? study.config : renamedConfig(study.config, name) ?? study.config;
  return { snapshot: { study: { ...rest, name, config }, trials: out }, requeued };
}

/**
 * The results that name trials by id (the evidence phase's pick and its report) with the copy's ids: `idOf` maps a
 * trial number to its id in the copy, `numberOf` a source id to its number. Everything else is kept as it is.
 */
export function remapTrialIds(attrs: Record<string, unknown>, numberOf: ReadonlyMap<number, number>, idOf: ReadonlyMap<number, number>): Record<string, unknown> {
  const mapped = (old: unknown): unknown => {
    if (typeof old !== 'number') return old;
    const number = numberOf.get(old);
    return number === undefined ? old : idOf.get(number) ?? old;
  };
  const out = { ...attrs };
  const source = attrs.finalValidationSource as Record<string, unknown> | null | undefined;
  if (source && typeof source === 'object') out.finalValidationSource = { ...source, best: mapped(source.best) };
  const report = attrs.finalValidation as Record<string, unknown> | null | undefined;
  if (report && typeof report === 'object') {
    const next: Record<string, unknown> = { ...report };
    if ('trialId' in report) next.trialId = mapped(report.trialId);
    const best = report.best as Record<string, unknown> | null | undefined;
    if (best && typeof best === 'object') next.best = { ...best, trialId: mapped(best.trialId) };
    out.finalValidation = next;
  }
  return out;
}

/** The first field where the copy does not read back as the snapshot, in words; null when it does. */
export function copyDiffers(snapshot: StudySnapshot, study: StudyRecord, trials: readonly TrialRecord[], keys: ReadonlyMap<number, string>): string | null {
  const want = snapshot.study;
  for (const f of ['name', 'direction', 'state', 'createdAt', 'searchSeconds'] as const) {
    if (JSON.stringify(study[f]) !== JSON.stringify(want[f])) return `the study's ${f}`;
  }
  if (JSON.stringify(study.config) !== JSON.stringify(want.config)) return "the study's config";
  if (trials.length !== snapshot.trials.length) return `the trial count (${trials.length}, not ${snapshot.trials.length})`;
  const read = snapshotOf(study, trials, keys).snapshot.trials;
  for (let i = 0; i < read.length; i++) {
    const got = read[i]!;
    const exp = snapshot.trials[i]!;
    for (const f of Object.keys(exp) as (keyof SnapshotTrial)[]) {
      if (JSON.stringify(got[f]) !== JSON.stringify(exp[f])) return `trial #${exp.number}'s ${f}`;
    }
  }
  return null;
}

/** The first attr whose stored value is not the one written, in words; null when none. */
export function attrsDiffer(got: Record<string, unknown>, want: Record<string, unknown>): string | null {
  const keys = new Set([...Object.keys(got), ...Object.keys(want)]);
  for (const k of keys) if (JSON.stringify(got[k] ?? null) !== JSON.stringify(want[k] ?? null)) return `the study's result '${k}'`;
  return null;
}

/** Copies study `ref` from `from`'s store into `to`'s, under `name` when given; `progress` hears when the study is read (the long part follows). */
export async function copyStudy(from: Snapshots, to: Snapshots, ref: string, name?: string, progress: (line: string) => void = () => {}): Promise<CopyReport> {
  const source = await from.snapshot(ref, name);
  progress(`read study ${source.name}: ${source.snapshot.trials.length} trials; writing the copy (one transaction), then reading it back to check it`);
  const made = await to.importCopy(source);
  return {
    from: { id: source.id, name: source.name },
    to: { id: made.id, name: made.name },
    trials: source.snapshot.trials.length,
    points: source.snapshot.trials.reduce((n, t) => n + t.intermediate.length, 0),
    requeued: source.requeued,
  };
}

/** The two service methods a copy needs, from the store it reads and the one it writes. */
export interface Snapshots {
  snapshot(ref: string, name?: string): Promise<StudyCopySource>;
  importCopy(from: StudyCopySource): Promise<StudyRecord>;
}
