// The `renorm-tune train` config file: {scenario, schedule?, seed?, backend?}, validated whole before anything runs.
import { ConfigError } from '../errors.js';
import { readTextFile } from '../config/read_text.js';
import { validateScenario, type Scenario } from './scenario.js';
import { BACKEND_NAMES } from '../engine/backend.js';
import { expectInt, expectObject, expectOneOf } from '../config/fields.js';
import { isExportedSchedule } from '../schedule/evaluate.js';
import { validateExportedSchedule } from '../schedule/load.js';
import { validateSchedule } from '../schedule/validate.js';
import type { ExportedSchedule, ScheduleSpec } from '../schedule/types.js';
import { parseJsonFile } from '../config/json_text.js';
import { STUDY_CONFIG_FIELDS } from '../study/config.js';
import { CLI } from '../shared/names.js';

export interface TrainConfig {
  scenario: Scenario;
  schedule?: ScheduleSpec | ExportedSchedule;
  seed?: number;
  backend?: string;
}

const TOP_LEVEL = ['scenario', 'schedule', 'seed', 'backend'];
/** Fields only a study config has: a file with any of them was meant for `run`, not `train`. */
const STUDY_ONLY = STUDY_CONFIG_FIELDS.filter((f) => f !== '$schema' && !TOP_LEVEL.includes(f));

/** Field names are prefixed with `prefix` (the file name for configs read from disk) so errors say where to look. */
export function validateTrainConfig(raw: unknown, prefix = ''): TrainConfig {
  const obj = expectObject(raw, prefix || 'config', 'give {"scenario": {...}, "schedule"?: {...}, "seed"?: 0, "backend"?: "auto"}');
  const at = (f: string) => (prefix ? `${prefix}:${f}` : f);
  const studyFields = Object.keys(obj).filter((k) => (STUDY_ONLY as readonly string[]).includes(k));
  // Every study config has a name; one other stray field (a training `optimizer` put at the top) is just unknown.
  if (studyFields.includes('name') || studyFields.length >= 2) {
    throw new ConfigError(prefix || 'config', `this is a study config (it has ${studyFields.join(', ')}), not a training config`,
      `train takes a training config such as configs/mnist-noniid.json ({"scenario": {...}}); run a study config with \`${CLI} run ${prefix || '<config>'}\``);
  }
  for (const key of Object.keys(obj)) {
    if (!TOP_LEVEL.includes(key)) throw new ConfigError(at(key), 'unknown top-level field', `remove it; allowed fields are ${TOP_LEVEL.join(', ')}`);
  }
  const scenario = validateScenario(obj.scenario, at('scenario'));
  const config: TrainConfig = { scenario };
  if (obj.schedule !== undefined) {
    config.schedule = isExportedSchedule(obj.schedule)
      ? validateExportedSchedule(obj.schedule, at('schedule'), { runSteps: scenario.steps })
      : validateSchedule(obj.schedule, at('schedule'), { totalSteps: scenario.steps });
  }
  if (obj.seed !== undefined) config.seed = expectInt(obj.seed, at('seed'), 0, 2 ** 31 - 1);
  if (obj.backend !== undefined) config.backend = expectOneOf(obj.backend, at('backend'), BACKEND_NAMES);
  return config;
}

export function loadTrainConfig(file: string): TrainConfig {
  const text = readTextFile(file, (reason) => `cannot read config (${reason})`);
  return validateTrainConfig(parseJsonFile(text, file), file);
}
