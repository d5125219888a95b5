// Resolves a `--schedule` argument: a built-in name, or a JSON file holding a ScheduleSpec or an exported schedule.
import { ConfigError, DataError, RenormTuneError } from '../errors.js';
import { closestMatch, expectInt, expectObject } from '../config/fields.js';
import { parseJsonFile } from '../config/json_text.js';
import { readTextFile } from '../config/read_text.js';
import { CLI } from '../shared/names.js';
import { isExportedSchedule } from './evaluate.js';
import { validateSchedule, type ValidateScheduleOptions } from './validate.js';
import { checkRenormMomentum } from './momentum.js';
import type { ExportedSchedule, ScheduleSpec } from './types.js';

/**
 * Checks what a trainer relies on in an export (format, version, schedule, totalSteps, renormMomentum); the rest is
 * provenance. With `runSteps`, its schedule is checked at that run length too: a formula over `step` does not stretch.
 */
export function validateExportedSchedule(raw: unknown, field = 'schedule', opts: { runSteps?: number } = {}): ExportedSchedule {
  const obj = expectObject(raw, field);
  if (obj.format !== 'renorm-tune/schedule') {
    throw new ConfigError(`${field}.format`, `must be 'renorm-tune/schedule', got ${JSON.stringify(obj.format)}`, `use a file written by \`${CLI} export\` or the best-schedule endpoint`);
  }
  if (obj.version !== 1) throw new ConfigError(`${field}.version`, `unsupported version ${JSON.stringify(obj.version)}`, 'this renorm-tune reads version 1');
  const totalSteps = expectInt(obj.totalSteps, `${field}.totalSteps`, 1, 1e9);
  const schedule = validateSchedule(obj.schedule, `${field}.schedule`, { totalSteps });
  if (opts.runSteps !== undefined && opts.runSteps !== totalSteps) validateSchedule(schedule, `${field}.schedule`, { totalSteps: opts.runSteps });
  const out = { ...(obj as unknown as ExportedSchedule), schedule, totalSteps };
  if (obj.renormMomentum !== undefined) out.renormMomentum = checkRenormMomentum(obj.renormMomentum, `${field}.renormMomentum`);
  return out;
}

/**
 * `paper` and `batchnorm` name the built-ins; anything else is a path. Errors name the file: a missing or
 * unparsable file is a DataError, a schedule that fails validation is a ConfigError whose field starts with the path.
 * `opts.totalSteps`: the length of the run that will use it, where known (`train`), to check a formula over `step` at.
 */
export function loadScheduleArg(arg: string, opts: ValidateScheduleOptions = {}): ScheduleSpec | ExportedSchedule {
  if (arg === 'paper') return { kind: 'paper' };
  if (arg === 'batchnorm') return { kind: 'batchnorm' };
  // A near miss of a built-in (`papr`) is a typo, not a file name.
  const near = /[/\\.]/.test(arg) ? undefined : closestMatch(arg, ['paper', 'batchnorm']);
  const text = readTextFile(arg, (reason) => `cannot read schedule file (${reason}); expected 'paper', 'batchnorm' or a path to a JSON schedule${near ? ` (did you mean '${near}'?)` : ''}`);
  const raw = parseJsonFile(text, arg);
  try {
    return isExportedSchedule(raw) ? validateExportedSchedule(raw, arg, { runSteps: opts.totalSteps }) : validateSchedule(raw, arg, opts);
  } catch (err) {
    if (err instanceof RenormTuneError) throw err;
    throw new DataError(arg, (err as Error).message);
  }
}
