// The study config: one pure validator that turns untrusted JSON into a complete StudyConfig, or names the field to fix.
import os from 'node:os';
import { ConfigError } from '../errors.js';
import type { Direction } from './types.js';
import type { PrunerSpec } from './pruners/index.js';
import { MAX_STEPS, validateScenario, type Scenario } from '../train/scenario.js';
import { mergeScheduleSpace } from './schedule_space.js';
import { ACQUISITIONS, BACKEND_NAMES, CLI, OPTIMIZER_KINDS, type AcquisitionName, type OptimizerKind } from '../shared/names.js';
import { type Json, describeValue, expectInt, expectNumber, expectObject, expectOneOf, joinField, rejectUnknown } from '../config/fields.js';
import { parseJsonFile } from '../config/json_text.js';
import { readTextFile } from '../config/read_text.js';

/**
 * Metrics the built-in trainer measures, with the direction that makes sense for each. A local study optimises one
 * of these; an external one may name its own metric. Test accuracy is not here on purpose: tuning on the test set would leak it.
 */
export const OBJECTIVE_METRICS: Readonly<Record<string, Direction>> = {
  valAccuracy: 'maximize',
  valAccuracyTrainMode: 'maximize',
  loss: 'minimize',
};

/** The range a known metric's values must lie in (an accuracy of 1.5 is a bug in the trainer, not a record). */
export const METRIC_BOUNDS: Readonly<Record<string, Bounds>> = {
  valAccuracy: [0, 1],
  valAccuracyTrainMode: [0, 1],
  loss: [0, null],
};

/** [low, high], either end null for "unbounded". */
export type Bounds = [number | null, number | null];

/** A metric an outside trainer names: a letter, then up to 63 letters, digits, '_', '.' or '-' (top1, mAP, val.loss, f1-macro). */
export const METRIC_NAME = /^[A-Za-z][\w.-]{0,63}$/;

/** The engine's backend names, from the browser-safe shared module so validating a config never loads TF.js. */
export const STUDY_BACKENDS = BACKEND_NAMES;

export interface StudyConfig {
  name: string;
  /**
   * The training scenario every trial of a local study runs, with every default filled in (so `steps` is always
   * there). An external study may give one to document its runs: it is checked, and kept as given (no defaults
   * are invented for a run renorm-tune never sees).
   */
  scenario?: Partial<Scenario>;
  /** An external study's run length (what asked trials' tables and the export are resolved for); a local study's is scenario.steps. */
  totalSteps?: number;
  /** Override of the default schedule search space as given (checked by mergeScheduleSpace; stored unmerged). */
  space?: Record<string, unknown>;
  /** `bounds`, when given, override the known metrics' (see objectiveBounds). */
  objective: { metric: string; direction: Direction; bounds?: Bounds };
  /**
   * A local study needs at least one of the two; `trials` counts the two baselines. An external study may have
   * neither (it asks until someone stops it).
   */
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
  /**
   * An earlier study (id or name) whose finished trials become the optimizer's first observations, copied as
   * `warm-start` trials when the study is created (see src/study/warm_start.ts).
   */
  warmStartFrom?: string;
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

/** A study config's top-level fields (train's config check uses them to spot a study config given to `train`). */
export const STUDY_CONFIG_FIELDS = ['$schema', 'name', 'scenario', 'totalSteps', 'space', 'objective', 'budget', 'workers', 'seedsPerTrial', 'seed', 'pruner', 'optimizer',
  'finalValidation', 'baselines', 'executor', 'leaseSeconds', 'maxRetries', 'trialTimeoutSeconds', 'trialMemoryMb', 'backend', 'warmStartFrom'] as const;
const NAME = /^[A-Za-z0-9._-]{1,100}$/;
/** What newStudyId makes (storage/rules.ts). */
const ID_FORM = /^[0-9a-f]{12}$/;
/** A local worker heartbeats every few seconds; an outside trainer may report only every few minutes. */
export const DEFAULT_LEASE_SECONDS = { local: 60, external: 3600 } as const;
export const DEFAULT_MAX_RETRIES = 2;

/**
 * Checks `raw` and fills every default, so the stored config says exactly what ran. Pure: reads nothing, writes
 * nothing (the default `workers` is this machine's core count). Throws ConfigError naming the first bad field.
 */
export function validateStudyConfig(raw: unknown): StudyConfig {
  const c = expectObject(raw, 'config', 'give the study config as a JSON object');
  rejectUnknown(c, '', STUDY_CONFIG_FIELDS);
  // Kept for editors, never read: but a number there is a mistake of the file, said like any other field's.
  if (c.$schema !== undefined && typeof c.$schema !== 'string') throw new ConfigError('$schema', `must be a string (the schema's path or URL, for editors), got ${describeValue(c.$schema)}`, 'e.g. "./schemas/study-config.schema.json", or leave it out');
  const executor = c.executor === undefined ? 'local' : expectOneOf(c.executor, 'executor', ['local', 'external'] as const);
  const external = executor === 'external';
  const out: StudyConfig = {
    name: studyName(c.name),
    ...scenarioAndSteps(c, external),
    objective: objective(c.objective, external),
    budget: validateBudget(c.budget, external, c.baselines !== false),
    workers: c.workers === undefined ? Math.max(1, os.availableParallelism()) : expectInt(c.workers, 'workers', 1, 256),
    seedsPerTrial: c.seedsPerTrial === undefined ? 1 : expectInt(c.seedsPerTrial, 'seedsPerTrial', 1, 10),
    seed: c.seed === undefined ? 0 : expectInt(c.seed, 'seed', 0, 2 ** 31 - 1),
    pruner: pruner(c.pruner),
    optimizer: optimizer(c.optimizer),
    finalValidation: finalValidation(c.finalValidation),
    baselines: c.baselines === undefined ? true : expectBoolean(c.baselines, 'baselines'),
    executor,
    leaseSeconds: c.leaseSeconds === undefined ? DEFAULT_LEASE_SECONDS[executor] : expectNumber(c.leaseSeconds, 'leaseSeconds', 5, 7 * 24 * 3600),
    maxRetries: c.maxRetries === undefined ? DEFAULT_MAX_RETRIES : expectInt(c.maxRetries, 'maxRetries', 0, 100),
  };
  // An external study's runs are not ours to limit; a local one's longest final run must stay within the trainer's.
  const longest = (out.executor === 'local' && out.scenario ? (out.scenario.steps ?? 0) : 0) * Math.max(...out.finalValidation.stepsMultipliers);
  if (longest > MAX_STEPS) {
    throw new ConfigError('finalValidation.stepsMultipliers', `would train ${longest} steps, over the trainer's limit of ${MAX_STEPS}`, 'use smaller multipliers');
  }
  if (c.space !== undefined) {
    out.space = expectObject(c.space, 'space', 'give a search-space override object, or leave it out for the default space');
    mergeScheduleSpace(out.space, 'space');
  }
  if (c.trialTimeoutSeconds !== undefined) {
    const limit = expectNumber(c.trialTimeoutSeconds, 'trialTimeoutSeconds', 0, Infinity, { loOpen: true });
    // A final run's limit is scaled by its steps multiplier, and a Node.js timer holds at most 2^31 - 1 ms (a longer
    // one fires at once, failing every trial).
    const m = Math.max(...out.finalValidation.stepsMultipliers);
    if (limit * m > MAX_TIMEOUT_SECONDS) {
      const scaled = m > 1 ? ` × the largest finalValidation.stepsMultipliers (${m})` : '';
      throw new ConfigError('trialTimeoutSeconds', `${limit} s${scaled} is over ${MAX_TIMEOUT_SECONDS} s (24.8 days), the longest timer Node.js can set`, `give at most ${Math.floor(MAX_TIMEOUT_SECONDS / m)}`);
    }
    out.trialTimeoutSeconds = limit;
  }
  if (c.trialMemoryMb !== undefined) out.trialMemoryMb = expectNumber(c.trialMemoryMb, 'trialMemoryMb', 63, Infinity, { loOpen: true });
  if (c.backend !== undefined) out.backend = expectOneOf(c.backend, 'backend', STUDY_BACKENDS);
  if (c.warmStartFrom !== undefined) out.warmStartFrom = studyRef(c.warmStartFrom, 'warmStartFrom');
  return out;
}

/** The longest trial limit, in seconds: 2^31 - 1 ms, the longest timer Node.js can set. */
const MAX_TIMEOUT_SECONDS = 2_147_483;

/**
 * A local study trains `scenario` (required, completed with defaults). An external study needs neither: it may
 * give `totalSteps` and/or a scenario (checked, stored as given); when both give a run length they must agree.
 */
function scenarioAndSteps(c: Json, external: boolean): Pick<StudyConfig, 'scenario' | 'totalSteps'> {
  if (!external) {
    if (c.totalSteps !== undefined) {
      throw new ConfigError('totalSteps', 'is for external studies; a local study runs scenario.steps steps', 'set scenario.steps instead');
    }
    return { scenario: validateScenario(c.scenario, 'scenario') };
  }
  const out: Pick<StudyConfig, 'scenario' | 'totalSteps'> = {};
  if (c.scenario !== undefined) {
    validateScenario(c.scenario, 'scenario');
    out.scenario = c.scenario as Partial<Scenario>;
  }
  if (c.totalSteps !== undefined) {
    out.totalSteps = expectInt(c.totalSteps, 'totalSteps', 1, 1e9, 'give your run length in training steps, e.g. 20000');
    const steps = out.scenario?.steps;
    if (steps !== undefined && steps !== out.totalSteps) {
      throw new ConfigError('totalSteps', `is ${out.totalSteps} but scenario.steps is ${steps}`, 'give the run length once (totalSteps), or make them agree');
    }
  }
  return out;
}

/** The scenario a local study trains (validateStudyConfig guarantees one); a ConfigError for an external study. */
export function localScenario(config: StudyConfig): Scenario {
  if (config.executor !== 'local' || !config.scenario) {
    throw new ConfigError('executor', `study '${config.name}' is trained outside renorm-tune (executor external), so it has no scenario to run`, 'drive it over the ask/tell API, or create a local study');
  }
  return config.scenario as Scenario;
}

/**
 * The range values of the study's metric must lie in: the config's `objective.bounds`, else the known metric's,
 * else unbounded. Reports and tells outside it are refused (400), so one buggy value cannot take over the study.
 */
export function objectiveBounds(objective: { metric?: unknown; bounds?: unknown }): Bounds {
  if (Array.isArray(objective.bounds) && objective.bounds.length === 2) return objective.bounds as Bounds;
  return (typeof objective.metric === 'string' ? METRIC_BOUNDS[objective.metric] : undefined) ?? [null, null];
}

/** Reads and validates a config file; read and JSON errors name the file. */
export function loadStudyConfig(path: string): StudyConfig {
  const text = readTextFile(path, (reason) => `cannot read study config: ${reason}`);
  const raw = parseJsonFile(text, path);
  try {
    return validateStudyConfig(raw);
  } catch (err) {
    // Same error (class, field, fix), with the file named first so the user knows where to look.
    if (err instanceof ConfigError) err.message = `${path}: ${err.message}`;
    throw err;
  }
}

/** The run length a study's trials are resolved for: an external study's totalSteps, else its scenario's steps; null when neither says. */
export function studyTotalSteps(config: { scenario?: unknown; totalSteps?: unknown }): number | null {
  const positive = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : null);
  return positive(config.totalSteps) ?? positive((config.scenario as Json | undefined)?.steps);
}

/** The name of the metric a study's stored config optimizes ('valAccuracy' when it names none). */
export function metricOf(config: { objective?: unknown }): string {
  const metric = (config.objective as { metric?: unknown } | undefined)?.metric;
  return typeof metric === 'string' ? metric : 'valAccuracy';
}

/** A study name: what `renorm-tune rename` and the rename route check too. */
export function studyName(raw: unknown, field = 'name'): string {
  if (typeof raw !== 'string' || !NAME.test(raw)) {
    throw new ConfigError(field, `must be 1-100 characters of ASCII letters, digits, '.', '_' or '-', got ${describeValue(raw)}`, 'e.g. "mnist-small-batch"');
  }
  // Studies are looked up by id or by name, ids first: a name of an id's form could stand for another study.
  if (ID_FORM.test(raw)) throw new ConfigError(field, `must not have the form of a study id (12 hex digits), got '${raw}': a name is looked up like an id, so it could stand for another study`, 'add a letter beyond a-f or a dash, e.g. "study-' + raw + '"');
  // A URL path reads '.' and '..' as its own segments: /api/studies/./ask would never reach the study.
  if (raw === '.' || raw === '..') throw new ConfigError(field, `must not be '.' or '..', got '${raw}': a URL path cannot carry it`, 'e.g. "mnist-small-batch"');
  return raw;
}

/** A reference to another study: its id or its name. */
function studyRef(raw: unknown, field: string): string {
  if (typeof raw !== 'string' || !NAME.test(raw)) {
    throw new ConfigError(field, `must be a study id or name, got ${describeValue(raw)}`, `\`${CLI} studies\` lists them`);
  }
  return raw;
}

function objective(raw: unknown, external: boolean): StudyConfig['objective'] {
  if (raw === undefined) return { metric: 'valAccuracy', direction: 'maximize' };
  const o = expectObject(raw, 'objective', 'e.g. {"metric": "valAccuracy", "direction": "maximize"}');
  rejectUnknown(o, 'objective', ['metric', 'direction', 'bounds']);
  const known = Object.keys(OBJECTIVE_METRICS);
  let metric = 'valAccuracy';
  if (o.metric !== undefined) {
    // A local study can only optimise what the built-in trainer measures; an outside trainer names its own metric.
    metric = external ? metricName(o.metric) : expectOneOf(o.metric, 'objective.metric', known, `a local study optimises what the built-in trainer measures (${known.join(', ')}); any other name needs executor "external"`);
  }
  const natural = OBJECTIVE_METRICS[metric];
  if (natural === undefined && o.direction === undefined) {
    throw new ConfigError('objective.direction', `is needed for the metric '${metric}': renorm-tune cannot guess whether higher is better`, 'add "direction": "maximize" (accuracy, mAP) or "minimize" (error, loss)');
  }
  const direction = o.direction === undefined ? natural! : expectOneOf(o.direction, 'objective.direction', ['maximize', 'minimize'] as const);
  if (natural !== undefined && direction !== natural) {
    // Maximising loss is never what anyone means, and the study would silently hunt for the worst schedule.
    throw new ConfigError('objective.direction', `'${direction}' would search for the worst ${metric}`, `use '${natural}' or leave direction out`);
  }
  const out: StudyConfig['objective'] = { metric, direction };
  if (o.bounds !== undefined) out.bounds = bounds(o.bounds);
  return out;
}

function metricName(raw: unknown): string {
  if (typeof raw !== 'string' || !METRIC_NAME.test(raw)) {
    throw new ConfigError('objective.metric', `must be a letter followed by up to 63 letters, digits, '_', '.' or '-', got ${describeValue(raw)}`, 'e.g. "top1", "mAP" or "val.loss"');
  }
  return raw;
}

function bounds(raw: unknown): Bounds {
  const fix = 'give [low, high], e.g. [0, 1] for an accuracy; null leaves an end open, e.g. [0, null]';
  if (!Array.isArray(raw) || raw.length !== 2) throw new ConfigError('objective.bounds', `must be a pair [low, high], got ${describeValue(raw)}`, fix);
  const end = (v: unknown, i: number) => (v === null ? null : expectNumber(v, `objective.bounds[${i}]`, -Infinity, Infinity, { fix }));
  const out: Bounds = [end(raw[0], 0), end(raw[1], 1)];
  if (out[0] !== null && out[1] !== null && !(out[0] < out[1])) throw new ConfigError('objective.bounds', `low ${out[0]} must be below high ${out[1]}`, fix);
  return out;
}

/** The budget rules, for a new config and for an extended one. */
export function validateBudget(raw: unknown, external: boolean, baselines: boolean): StudyConfig['budget'] {
  // An outside trainer may not know how many trials it will run: it asks until it (or `renorm-tune stop`) ends the study.
  if (raw === undefined && external) return {};
  const b = expectObject(raw, 'budget', 'give {"trials": 20} and/or {"timeMinutes": 30}');
  rejectUnknown(b, 'budget', ['trials', 'timeMinutes']);
  if (b.trials === undefined && b.timeMinutes === undefined && !external) {
    throw new ConfigError('budget', 'needs trials or timeMinutes (or both)', 'e.g. {"trials": 20}; trials include the 2 baselines');
  }
  const out: StudyConfig['budget'] = {};
  // The two baselines come out of budget.trials first (an outside trainer's asks hand them out too).
  const least = baselines ? 3 : 1;
  if (b.trials !== undefined) {
    if (baselines && typeof b.trials === 'number' && Number.isInteger(b.trials) && b.trials < least) {
      throw new ConfigError('budget.trials', `must be at least 3 (the 2 baselines and one tuned trial), got ${b.trials}`, 'set budget.trials >= 3, or "baselines": false to tune without them');
    }
    out.trials = expectInt(b.trials, 'budget.trials', least, 100_000);
  }
  if (b.timeMinutes !== undefined) out.timeMinutes = expectNumber(b.timeMinutes, 'budget.timeMinutes', 0, Infinity, { loOpen: true });
  return out;
}

/** `"median"` is shorthand for `{"type": "median"}` (the same for none and asha). */
function pruner(raw: unknown): PrunerSpec {
  if (raw === undefined) return { type: 'none' };
  if (typeof raw === 'string') raw = { type: raw };
  const p = expectObject(raw, 'pruner', 'e.g. "median" or {"type": "median", "warmupSteps": 100}');
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

/** `"random"` is shorthand for `{"type": "random"}`. */
function optimizer(raw: unknown): StudyConfig['optimizer'] {
  if (raw === undefined) return { type: 'gp', acquisition: 'logei' };
  if (typeof raw === 'string') raw = { type: raw };
  const o = expectObject(raw, 'optimizer', 'e.g. "gp" or {"type": "gp", "acquisition": "logei"}');
  rejectUnknown(o, 'optimizer', ['type', 'acquisition', 'initialTrials']);
  const out: StudyConfig['optimizer'] = {
    type: o.type === undefined ? 'gp' : expectOneOf(o.type, 'optimizer.type', OPTIMIZER_KINDS),
    acquisition: o.acquisition === undefined ? 'logei' : expectOneOf(o.acquisition, 'optimizer.acquisition', ACQUISITIONS),
  };
  if (o.initialTrials !== undefined) out.initialTrials = expectInt(o.initialTrials, 'optimizer.initialTrials', 1, 10_000);
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
