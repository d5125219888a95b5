// The study config: one pure validator that turns untrusted JSON into a complete StudyConfig, or names the field to fix.
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { ConfigError, DataError } from '../errors.js';
import type { Direction } from './types.js';
import type { PrunerSpec } from './pruners/index.js';
import { MAX_STEPS, validateScenario, type Scenario } from '../train/scenario.js';
import { mergeScheduleSpace } from './schedule_space.js';
import { ACQUISITIONS, BACKEND_NAMES, OPTIMIZER_KINDS, type AcquisitionName, type OptimizerKind } from '../shared/names.js';
import { type Json, describeValue, expectInt, expectNumber, expectObject, expectOneOf, joinField, rejectUnknown } from '../config/fields.js';

/** Metrics a study may optimise, with the direction that makes sense for each. Test accuracy is not here on purpose: tuning on the test set would leak it. */
export const OBJECTIVE_METRICS: Readonly<Record<string, Direction>> = {
  valAccuracy: 'maximize',
  valAccuracyTrainMode: 'maximize',
  loss: 'minimize',
};

/** The engine's backend names, from the browser-safe shared module so validating a config never loads TF.js. */
export const STUDY_BACKENDS = BACKEND_NAMES;

export interface StudyConfig {
  name: string;
  /** The training scenario every trial runs, with every default filled in (so `steps` is always there). */
  scenario: Scenario;
  /** Override of the default schedule search space as given (checked by mergeScheduleSpace; stored unmerged). */
  space?: Record<string, unknown>;
  objective: { metric: string; direction: Direction };
  /** At least one of the two; `trials` counts the two baselines. */
  budget: { trials?: number; timeMinutes?: number };
  workers: number;
  seedsPerTrial: number;
  seed: number;
  pruner: PrunerSpec;
  optimizer: { type: OptimizerKind; acquisition: AcquisitionName; initialTrials?: number };
  /**
   * After the search: race the top tuned trials on fresh validation seeds, then retrain the winner and the
   * baselines on `seeds` fresh seeds (the same for every arm: paired) at each run length scenario.steps x m.
   */
  finalValidation: FinalValidationConfig;
  /** Measure plain BatchNorm and the paper's schedule first (default true); without them no verdict is possible. */
  baselines: boolean;
  executor: 'local' | 'external';
  /**
   * How long a trial's lease lasts without a heartbeat (a local or queue worker renews it every third of this;
   * an outside trainer's `report` renews it). Default 60 s for local studies, 3600 s for external ones.
   */
  leaseSeconds: number;
  /** How often a trial whose lease expired (its worker died) is put back in the queue before it FAILs. Default 2. */
  maxRetries: number;
  trialTimeoutSeconds?: number;
  trialMemoryMb?: number;
  backend?: (typeof STUDY_BACKENDS)[number];
}

export interface FinalValidationConfig {
  /** Fresh seeds per arm; 0 skips final validation. Default 5. */
  seeds: number;
  /** Run lengths to retrain at, as multiples of scenario.steps; always includes 1. Default [1]. */
  stepsMultipliers: number[];
  /** The top `candidates` tuned trials re-measured on `seeds` more validation seeds each; candidates 1 = no race. Default 3 and 2. */
  race: { candidates: number; seeds: number };
}

export const DEFAULT_FINAL_VALIDATION: Readonly<FinalValidationConfig> = Object.freeze({ seeds: 5, stepsMultipliers: [1], race: { candidates: 3, seeds: 2 } });

const TOP = ['$schema', 'name', 'scenario', 'space', 'objective', 'budget', 'workers', 'seedsPerTrial', 'seed', 'pruner', 'optimizer',
  'finalValidation', 'baselines', 'executor', 'leaseSeconds', 'maxRetries', 'trialTimeoutSeconds', 'trialMemoryMb', 'backend'] as const;
const NAME = /^[A-Za-z0-9._-]{1,100}$/;
/** A local worker heartbeats every few seconds; an outside trainer may report only every few minutes. */
const DEFAULT_LEASE_SECONDS = { local: 60, external: 3600 } as const;

/**
 * Checks `raw` and fills every default, so the stored config says exactly what ran. Pure: reads nothing, writes
 * nothing (the default `workers` is this machine's core count). Throws ConfigError naming the first bad field.
 */
export function validateStudyConfig(raw: unknown): StudyConfig {
  const c = expectObject(raw, 'config', 'give the study config as a JSON object');
  rejectUnknown(c, '', TOP);
  const executor = c.executor === undefined ? 'local' : expectOneOf(c.executor, 'executor', ['local', 'external'] as const);
  const out: StudyConfig = {
    name: name(c.name),
    scenario: validateScenario(c.scenario, 'scenario'),
    objective: objective(c.objective),
    budget: budget(c.budget),
    workers: c.workers === undefined ? Math.max(1, os.availableParallelism()) : expectInt(c.workers, 'workers', 1, 256),
    seedsPerTrial: c.seedsPerTrial === undefined ? 1 : expectInt(c.seedsPerTrial, 'seedsPerTrial', 1, 10),
    seed: c.seed === undefined ? 0 : expectInt(c.seed, 'seed', 0, 2 ** 31 - 1),
    pruner: pruner(c.pruner),
    optimizer: optimizer(c.optimizer),
    finalValidation: finalValidation(c.finalValidation),
    baselines: c.baselines === undefined ? true : expectBoolean(c.baselines, 'baselines'),
    executor,
    leaseSeconds: c.leaseSeconds === undefined ? DEFAULT_LEASE_SECONDS[executor] : expectNumber(c.leaseSeconds, 'leaseSeconds', 5, 7 * 24 * 3600),
    maxRetries: c.maxRetries === undefined ? 2 : expectInt(c.maxRetries, 'maxRetries', 0, 100),
  };
  const longest = out.scenario.steps * Math.max(...out.finalValidation.stepsMultipliers);
  if (longest > MAX_STEPS) {
    throw new ConfigError('finalValidation.stepsMultipliers', `would train ${longest} steps, over the trainer's limit of ${MAX_STEPS}`, 'use smaller multipliers');
  }
  if (c.space !== undefined) {
    out.space = expectObject(c.space, 'space', 'give a search-space override object, or leave it out for the default space');
    mergeScheduleSpace(out.space, 'space');
  }
  if (c.trialTimeoutSeconds !== undefined) out.trialTimeoutSeconds = expectNumber(c.trialTimeoutSeconds, 'trialTimeoutSeconds', 0, Infinity, { loOpen: true });
  if (c.trialMemoryMb !== undefined) out.trialMemoryMb = expectNumber(c.trialMemoryMb, 'trialMemoryMb', 63, Infinity, { loOpen: true });
  if (c.backend !== undefined) out.backend = expectOneOf(c.backend, 'backend', STUDY_BACKENDS);
  return out;
}

/** Reads and validates a config file; read and JSON errors name the file. */
export function loadStudyConfig(path: string): StudyConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new DataError(path, `cannot read study config: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new DataError(path, `is not valid JSON: ${(err as Error).message}`);
  }
  try {
    return validateStudyConfig(raw);
  } catch (err) {
    // Same error (class, field, fix), with the file named first so the user knows where to look.
    if (err instanceof ConfigError) err.message = `${path}: ${err.message}`;
    throw err;
  }
}

/** The run length a study trains for, from its scenario; null until the scenario says. */
export function studyTotalSteps(config: { scenario?: unknown }): number | null {
  const steps = (config.scenario as Json | undefined)?.steps;
  return typeof steps === 'number' && Number.isInteger(steps) && steps > 0 ? steps : null;
}

function name(raw: unknown): string {
  if (typeof raw !== 'string' || !NAME.test(raw)) {
    throw new ConfigError('name', `must be 1-100 characters of letters, digits, '.', '_' or '-', got ${describeValue(raw)}`, 'e.g. "mnist-small-batch"');
  }
  return raw;
}

function objective(raw: unknown): StudyConfig['objective'] {
  if (raw === undefined) return { metric: 'valAccuracy', direction: 'maximize' };
  const o = expectObject(raw, 'objective', 'e.g. {"metric": "valAccuracy", "direction": "maximize"}');
  rejectUnknown(o, 'objective', ['metric', 'direction']);
  const metric = o.metric === undefined ? 'valAccuracy' : expectOneOf(o.metric, 'objective.metric', Object.keys(OBJECTIVE_METRICS));
  const natural = OBJECTIVE_METRICS[metric]!;
  const direction = o.direction === undefined ? natural : expectOneOf(o.direction, 'objective.direction', ['maximize', 'minimize'] as const);
  if (direction !== natural) {
    // Maximising loss is never what anyone means, and the study would silently hunt for the worst schedule.
    throw new ConfigError('objective.direction', `'${direction}' would search for the worst ${metric}`, `use '${natural}' or leave direction out`);
  }
  return { metric, direction };
}

function budget(raw: unknown): StudyConfig['budget'] {
  const b = expectObject(raw, 'budget', 'give {"trials": 20} and/or {"timeMinutes": 30}');
  rejectUnknown(b, 'budget', ['trials', 'timeMinutes']);
  if (b.trials === undefined && b.timeMinutes === undefined) {
    throw new ConfigError('budget', 'needs trials or timeMinutes (or both)', 'e.g. {"trials": 20}; trials include the 2 baselines');
  }
  const out: StudyConfig['budget'] = {};
  if (b.trials !== undefined) {
    if (typeof b.trials === 'number' && Number.isInteger(b.trials) && b.trials < 3) {
      throw new ConfigError('budget.trials', `must be at least 3 (the 2 baselines and one tuned trial), got ${b.trials}`, 'set budget.trials >= 3');
    }
    out.trials = expectInt(b.trials, 'budget.trials', 3, 100_000);
  }
  if (b.timeMinutes !== undefined) out.timeMinutes = expectNumber(b.timeMinutes, 'budget.timeMinutes', 0, Infinity, { loOpen: true });
  return out;
}

function pruner(raw: unknown): PrunerSpec {
  if (raw === undefined) return { type: 'none' };
  const p = expectObject(raw, 'pruner', 'e.g. {"type": "median", "warmupSteps": 100}');
  const type = expectOneOf(p.type, 'pruner.type', ['none', 'median', 'asha'] as const);
  if (type === 'none') {
    rejectUnknown(p, 'pruner', ['type']);
    return { type };
  }
  if (type === 'median') {
    rejectUnknown(p, 'pruner', ['type', 'warmupSteps', 'minTrials']);
    const spec: PrunerSpec = { type };
    if (p.warmupSteps !== undefined) spec.warmupSteps = expectInt(p.warmupSteps, 'pruner.warmupSteps', 0);
    if (p.minTrials !== undefined) spec.minTrials = expectInt(p.minTrials, 'pruner.minTrials', 1);
    return spec;
  }
  rejectUnknown(p, 'pruner', ['type', 'minResource', 'reductionFactor']);
  const spec: PrunerSpec = { type };
  if (p.minResource !== undefined) spec.minResource = expectInt(p.minResource, 'pruner.minResource', 1);
  if (p.reductionFactor !== undefined) spec.reductionFactor = expectInt(p.reductionFactor, 'pruner.reductionFactor', 2);
  return spec;
}

function optimizer(raw: unknown): StudyConfig['optimizer'] {
  if (raw === undefined) return { type: 'gp', acquisition: 'logei' };
  const o = expectObject(raw, 'optimizer', 'e.g. {"type": "gp", "acquisition": "logei"}');
  rejectUnknown(o, 'optimizer', ['type', 'acquisition', 'initialTrials']);
  const out: StudyConfig['optimizer'] = {
    type: o.type === undefined ? 'gp' : expectOneOf(o.type, 'optimizer.type', OPTIMIZER_KINDS),
    acquisition: o.acquisition === undefined ? 'logei' : expectOneOf(o.acquisition, 'optimizer.acquisition', ACQUISITIONS),
  };
  if (o.initialTrials !== undefined) out.initialTrials = expectInt(o.initialTrials, 'optimizer.initialTrials', 0, 10_000);
  return out;
}

function finalValidation(raw: unknown): FinalValidationConfig {
  const d = DEFAULT_FINAL_VALIDATION;
  if (raw === undefined) return { seeds: d.seeds, stepsMultipliers: [...d.stepsMultipliers], race: { ...d.race } };
  const f = expectObject(raw, 'finalValidation', 'e.g. {"seeds": 5, "stepsMultipliers": [1, 4]}, or {"seeds": 0} to skip it');
  rejectUnknown(f, 'finalValidation', ['seeds', 'stepsMultipliers', 'race']);
  return {
    seeds: f.seeds === undefined ? d.seeds : expectInt(f.seeds, joinField('finalValidation', 'seeds'), 0, 50),
    stepsMultipliers: f.stepsMultipliers === undefined ? [...d.stepsMultipliers] : stepsMultipliers(f.stepsMultipliers),
    race: f.race === undefined ? { ...d.race } : race(f.race),
  };
}

function stepsMultipliers(raw: unknown): number[] {
  const field = 'finalValidation.stepsMultipliers';
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > 8) {
    throw new ConfigError(field, `must be a list of 1 to 8 run-length multipliers, got ${describeValue(raw)}`, 'e.g. [1, 4]');
  }
  const out = raw.map((m, i) => expectInt(m, `${field}[${i}]`, 1, 100));
  if (new Set(out).size !== out.length) throw new ConfigError(field, `lists a multiplier twice: ${JSON.stringify(out)}`, 'list each run length once');
  if (!out.includes(1)) throw new ConfigError(field, `must include 1, the run length the study tuned on, got ${JSON.stringify(out)}`, 'e.g. [1, 4]');
  return [1, ...out.filter((m) => m !== 1).sort((a, b) => a - b)];
}

function race(raw: unknown): FinalValidationConfig['race'] {
  const r = expectObject(raw, 'finalValidation.race', 'e.g. {"candidates": 3, "seeds": 2}, or {"candidates": 1} for no race');
  rejectUnknown(r, 'finalValidation.race', ['candidates', 'seeds']);
  const d = DEFAULT_FINAL_VALIDATION.race;
  return {
    candidates: r.candidates === undefined ? d.candidates : expectInt(r.candidates, 'finalValidation.race.candidates', 1, 20),
    seeds: r.seeds === undefined ? d.seeds : expectInt(r.seeds, 'finalValidation.race.seeds', 0, 20),
  };
}

function expectBoolean(raw: unknown, field: string): boolean {
  if (typeof raw !== 'boolean') throw new ConfigError(field, `must be true or false, got ${describeValue(raw)}`);
  return raw;
}
