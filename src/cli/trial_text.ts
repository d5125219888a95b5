// `renorm-tune show <study> --trial N`: one trial as text (what ended it, its schedule, its lease while running, its curve).
import { describeSchedule } from '../schedule/index.js';
import { printable } from '../shared/printable.js';
import { roleLabel } from '../shared/roles.js';
import { backendOnDevice, trainedBy, trainedOn } from '../shared/trained_on.js';
import type { TrialRecord } from '../study/types.js';
import { sig4 as fmt } from './format.js';

/** Curve points printed: the first and the last few, the rest counted (a long run reports hundreds). */
export const CURVE_ENDS = 5;

function seconds(from: string | null, to: string | null): string {
  if (!from || !to) return '';
  const s = (Date.parse(to) - Date.parse(from)) / 1000;
  return Number.isFinite(s) ? ` (${s < 60 ? `${s.toFixed(1)} s` : `${(s / 60).toFixed(1)} min`})` : '';
}

export function trialText(t: TrialRecord, metric: string, now = Date.now()): string {
  const role = t.role === 'search' ? 'search' : `${t.role} (${roleLabel(t.role)})`;
  const ended = t.state === 'FAIL' ? `: ${t.failureReason ?? 'no reason recorded'}` : t.value === null ? '' : `, ${metric} ${fmt(t.value)}`;
  const lines = [
    `trial     #${t.number} (id ${t.id}), ${t.state}${ended}`,
    `role      ${role}`,
    `schedule  ${describeSchedule(t.schedule)}`,
    `params    ${Object.keys(t.params).length ? Object.entries(t.params).map(([k, v]) => `${k} ${typeof v === 'number' ? fmt(v) : v}`).join(', ') : '-'}`,
    `seed      ${t.seed}${t.claims > 1 ? `, handed out ${t.claims} times` : ''}${t.retries ? `, requeued ${t.retries} time${t.retries === 1 ? '' : 's'} after a lost lease` : ''}`,
    `times     created ${t.createdAt}${t.startedAt ? `, started ${t.startedAt}` : ''}${t.finishedAt ? `, finished ${t.finishedAt}${seconds(t.startedAt, t.finishedAt)}` : ''}`,
  ];
  const on = trainedOn(t.metrics);
  const by = trainedBy(t.metrics);
  if (on || by) lines.push(`trained   ${[on && backendOnDevice(on.backend, on.device), by && `by ${by}`].filter(Boolean).join(', ')}`);
  if (t.lease) {
    // An expired lease stays on the trial until someone reaps it (the next ask, a run, a coordinator's pass).
    const expired = Date.parse(t.lease.expiresAt) < now ? ' (expired: the trial is queued again at the next ask, or by a run or coordinator)' : '';
    lines.push(`lease     held by ${t.lease.owner} (token ${t.lease.token}) until ${t.lease.expiresAt}${expired}`);
  }
  if (t.pruneRequested) lines.push(`pruning   the pruner asked this trial to stop${t.state === 'PRUNED' ? '' : ' (a value told now is recorded PRUNED)'}`);
  const curve = [...t.intermediate].sort((a, b) => a.step - b.step);
  if (curve.length === 0) lines.push('curve     no reports');
  else {
    const point = (p: (typeof curve)[number]) => `step ${p.step} ${fmt(p.value)}`;
    const shown = curve.length <= 2 * CURVE_ENDS
      ? curve.map(point)
      : [...curve.slice(0, CURVE_ENDS).map(point), `… ${curve.length - 2 * CURVE_ENDS} more …`, ...curve.slice(-CURVE_ENDS).map(point)];
    lines.push(`curve     ${curve.length} report${curve.length === 1 ? '' : 's'}: ${shown.join(', ')}`);
  }
  // Every line is built whole here: what a trainer sent (its failure reason, its worker's name) cannot break one.
  return `${lines.map(printable).join('\n')}\n`;
}
