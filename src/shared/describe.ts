// One sentence describing a schedule, for the CLI's tables and the dashboard's alike; browser-safe.
import type { ScheduleSpec } from '../schedule/types.js';
import { paperAsRamp } from './ramp.js';

function fmt(x: number): string {
  return Number(x.toPrecision(3)).toString();
}

export function describeSchedule(spec: ScheduleSpec): string {
  switch (spec.kind) {
    case 'batchnorm':
      return 'BatchNorm (rmax 1, dmax 0 throughout)';
    case 'formula':
      return `formula rmax = ${spec.rmax}; dmax = ${spec.dmax}${spec.rmin !== undefined ? `; rmin = ${spec.rmin}` : ''}`;
    case 'paper':
    case 'ramp': {
      const r = spec.kind === 'paper' ? paperAsRamp(spec) : spec;
      const name = spec.kind === 'paper' ? 'paper' : `${r.shape} ramp`;
      return `${name}: BatchNorm until t=${fmt(r.warmup)}, rmax 1→${fmt(r.rmaxFinal)} by t=${fmt(r.rmaxEnd)}, dmax 0→${fmt(r.dmaxFinal)} by t=${fmt(r.dmaxEnd)}`;
    }
    default:
      return 'unknown schedule';
  }
}
