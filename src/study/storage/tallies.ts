// What a study list needs of each study's trials (counts, best, baselines), from two aggregate queries instead of every trial: SQLite and PostgreSQL share them.
import { countTrials, noTrials, tally, type TrialCounts, type TrialTally } from '../../shared/summary.js';
import type { Direction } from '../types.js';

/** One (study, role, state) group of trials and its size. */
export interface TallyGroupRow {
  study_id: string;
  role: string;
  state: string;
  n: number | string;
}

/** Of one (study, role): its COMPLETE trials holding the best value by the study's direction, and its first (lowest number). */
export interface TallyPickRow {
  study_id: string;
  role: string;
  id: number;
  number: number;
  value: number;
  direction: Direction;
}

/** `prefix` is the schema (`renorm_tune.`) or ''; `only` the placeholder (`?` or `$1`) of one study's id, or absent for all. */
export function tallyGroupsSql(prefix: string, only?: string): string {
  return `SELECT study_id, role, state, COUNT(*) AS n FROM ${prefix}trials ${only ? `WHERE study_id = ${only} ` : ''}GROUP BY study_id, role, state`;
}

/**
 * The best of a role is the best of the study when that role competes (the rule in src/shared/best.ts ranks by value,
 * then by number), and a baseline's value is its first completed trial: so of each (study, role) only the trials
 * holding its best value (ties and all) and its first one are read. Aggregates and an equality join rather than a
 * ranking window: sorting thousands of rows by text keys cost PostgreSQL 30 ms at 5,000 trials. Stored values are
 * finite (the stores refuse anything else), so no row needs filtering for it.
 */
export function tallyPicksSql(prefix: string, only?: string): string {
  return `WITH g AS (
      SELECT study_id, role, MAX(value) AS hi, MIN(value) AS lo, MIN(number) AS first FROM ${prefix}trials
      WHERE state = 'COMPLETE' AND value IS NOT NULL ${only ? `AND study_id = ${only} ` : ''}GROUP BY study_id, role)
    SELECT t.study_id, t.role, t.id, t.number, t.value, s.direction
    FROM g JOIN ${prefix}studies s ON s.id = g.study_id
      JOIN ${prefix}trials t ON t.study_id = g.study_id AND t.role = g.role AND t.state = 'COMPLETE'
    WHERE t.value = CASE WHEN s.direction = 'maximize' THEN g.hi ELSE g.lo END OR t.number = g.first`;
}

/**
 * The tallies the two queries' rows add up to, per study with trials: counts by `countTrials`, and best and
 * baselines by `tally` itself, run over the picked rows, which hold every trial its rules could choose.
 */
export function talliesFromRows(groups: readonly TallyGroupRow[], picks: readonly TallyPickRow[]): Map<string, TrialTally> {
  const counts = new Map<string, TrialCounts>();
  for (const g of groups) {
    let c = counts.get(g.study_id);
    if (!c) counts.set(g.study_id, (c = noTrials()));
    countTrials(c, g.role, g.state, Number(g.n));
  }
  const picked = new Map<string, (TallyPickRow & { state: string })[]>();
  for (const p of picks) {
    const list = picked.get(p.study_id) ?? [];
    list.push({ ...p, state: 'COMPLETE' });
    picked.set(p.study_id, list);
  }
  const out = new Map<string, TrialTally>();
  for (const [studyId, c] of counts) {
    const rows = picked.get(studyId) ?? [];
    const { best, baselines } = tally(rows, rows[0]?.direction ?? 'maximize');
    out.set(studyId, { counts: c, best, baselines });
  }
  return out;
}
