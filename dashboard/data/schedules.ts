// The schedules themselves: rmax(t) and dmax(t) of the top trials drawn against the paper's and BatchNorm's.
import type { Direction, Series, TrialRecord } from '../types.js';
import { COLORS, rankColor } from './palette.js';
import { trialScheduleCurves } from './schedule_curve.js';
import { topTrialsWithBaselines, trialName, trialRole } from './trials.js';
import { formatValue } from './summary.js';

export interface ScheduleData {
  rmax: Series[];
  dmax: Series[];
  /** Top trials whose schedule could not be drawn (formula schedules before any progress). */
  missing: string[];
}

function styleFor(t: TrialRecord, rank: number): Pick<Series, 'borderColor' | 'borderDash' | 'borderWidth'> {
  const role = trialRole(t);
  if (role === 'paper') return { borderColor: COLORS.paper, borderDash: [6, 4], borderWidth: 2 };
  if (role === 'batchnorm') return { borderColor: COLORS.batchnorm, borderDash: [2, 3], borderWidth: 2 };
  return { borderColor: rankColor(rank), borderWidth: rank === 0 ? 3 : 1.5 };
}

/** Schedules of the best `topN` complete trials plus both baselines; the paper's default is drawn when no paper trial exists. */
export function scheduleData(trials: readonly TrialRecord[], direction: Direction, totalSteps: number | null, topN = 5, metric = ''): ScheduleData {
  const chosen = topTrialsWithBaselines(trials, direction, topN);
  if (!chosen.some((t) => trialRole(t) === 'paper')) {
    chosen.push({ id: -1, number: -1, role: 'baseline:paper', schedule: { kind: 'paper' }, intermediate: [] } as unknown as TrialRecord);
  }
  const out: ScheduleData = { rmax: [], dmax: [], missing: [] };
  chosen.forEach((t, i) => {
    const curves = trialScheduleCurves(t, totalSteps);
    const name = trialName(t) + (t.value !== null && t.value !== undefined && trialRole(t) === 'search' ? ` (${formatValue(t.value, metric)})` : '');
    if (!curves) {
      out.missing.push(name);
      return;
    }
    const style = styleFor(t, i);
    const base = { type: 'line' as const, pointRadius: 0, trialId: t.id >= 0 ? t.id : undefined, ...style };
    out.rmax.push({ label: name, data: curves.rmax, ...base });
    out.dmax.push({ label: name, data: curves.dmax, ...base });
  });
  return out;
}
