// Study config: defaults, one bad field at a time (the error must name it), agreement with the JSON Schema, file errors.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { ConfigError, DataError } from '../../src/errors.js';
import { loadStudyConfig, localScenario, objectiveBounds, studyTotalSteps, validateStudyConfig } from '../../src/study/config.js';
import { SCENARIO_FIELDS } from '../../src/train/scenario.js';
import { scheduleParamNames } from '../../src/study/schedule_space.js';

const schemaPath = new URL('../../../configs/schemas/study-config.schema.json', import.meta.url);
const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as object;
const schemaCheck = new Ajv({ allErrors: true, strict: false }).compile(schema);

const base = () => ({ name: 'mnist-small', scenario: { dataset: 'mnist', steps: 500 }, budget: { trials: 10 } }) as Record<string, unknown>;
const withField = (path: string, value: unknown) => {
  const c = structuredClone(base());
  const keys = path.split('.');
  let o = c as Record<string, unknown>;
  for (const k of keys.slice(0, -1)) o = (o[k] ??= {}) as Record<string, unknown>;
  if (value === undefined) delete o[keys.at(-1)!];
  else o[keys.at(-1)!] = value;
  return c;
};

describe('validateStudyConfig', () => {
  it('fills every default and keeps what was given', () => {
    const c = validateStudyConfig(base());
    assert.equal(c.name, 'mnist-small');
    assert.equal(c.scenario?.steps, 500);
    assert.equal(c.scenario?.dataset, 'mnist');
    assert.ok(c.scenario!.batchSize! > 0, 'the scenario comes back with its defaults filled in');
    assert.deepEqual(c.objective, { metric: 'valAccuracy', direction: 'maximize' });
    assert.deepEqual(c.budget, { trials: 10 });
    assert.ok(Number.isInteger(c.workers) && c.workers >= 1);
    assert.equal(c.seedsPerTrial, 1);
    assert.equal(c.seed, 0);
    assert.deepEqual(c.pruner, { type: 'none' });
    assert.deepEqual(c.optimizer, { type: 'gp', acquisition: 'logei' });
    assert.deepEqual(c.finalValidation, { seeds: 5, stepsMultipliers: [1], race: { candidates: 3, seeds: 2 } }, 'paired final validation on 5 seeds after a race of the top 3');
    assert.equal(c.baselines, true);
    assert.equal(c.executor, 'local');
    assert.equal('space' in c || 'backend' in c || 'trialTimeoutSeconds' in c, false, 'absent optional fields stay absent');
  });

  it('accepts a full config, derives direction from the metric, and is idempotent', () => {
    const full = {
      ...base(), space: { warmup: { type: 'float', low: 0, high: 0.3 }, shape: 'cosine' }, objective: { metric: 'loss' }, budget: { trials: 3, timeMinutes: 0.5 }, workers: 2,
      seedsPerTrial: 10, seed: 42, pruner: { type: 'asha', minResource: 20, reductionFactor: 4 },
      optimizer: { type: 'random', acquisition: 'ucb', initialTrials: 1 }, finalValidation: { seeds: 0, stepsMultipliers: [4, 1], race: { candidates: 1 } }, executor: 'external',
      baselines: false,
      trialTimeoutSeconds: 90, trialMemoryMb: 512, backend: 'wasm',
    };
    const c = validateStudyConfig(full);
    assert.deepEqual(c.objective, { metric: 'loss', direction: 'minimize' });
    assert.deepEqual(c.pruner, { type: 'asha', minResource: 20, reductionFactor: 4 });
    assert.deepEqual(c.finalValidation, { seeds: 0, stepsMultipliers: [1, 4], race: { candidates: 1, seeds: 2 } }, 'multipliers sorted, the study\'s own length first');
    assert.equal(c.baselines, false);
    assert.deepEqual(validateStudyConfig(c), c, 'a validated config validates to itself (it is what gets stored)');
    assert.ok(schemaCheck(c), JSON.stringify(schemaCheck.errors));
  });

  it('the schema takes what the README documents for a space: renormMomentum null (not tuned), a constant, a spec; null for no other parameter', () => {
    for (const m of [null, 0.95, { type: 'float', low: 0.9, high: 0.99 }]) {
      const raw = withField('space', { renormMomentum: m });
      validateStudyConfig(raw);
      assert.ok(schemaCheck(raw), `renormMomentum ${JSON.stringify(m)}: ${JSON.stringify(schemaCheck.errors)}`);
    }
    const nullWarmup = withField('space', { warmup: null });
    assert.throws(() => validateStudyConfig(nullWarmup), ConfigError);
    assert.equal(schemaCheck(nullWarmup), false);
  });

  it('does not modify its input', () => {
    const raw = base();
    const copy = structuredClone(raw);
    validateStudyConfig(raw);
    assert.deepEqual(raw, copy);
  });

  it('documents exactly the scenario fields and space parameters the owning packages accept', () => {
    const props = (schema as { properties: Record<string, { properties?: object; propertyNames?: { enum: string[] } }> }).properties;
    assert.deepEqual(Object.keys(props.scenario!.properties!).sort(), [...SCENARIO_FIELDS].sort(), 'update scenario in study-config.schema.json');
    assert.deepEqual([...props.space!.propertyNames!.enum].sort(), [...scheduleParamNames].sort(), 'update space in study-config.schema.json');
  });

  // [what is wrong, the config, the field the error must name, a phrase the message or fix must contain, whether the schema can tell]
  const bad: [string, unknown, string, RegExp, boolean?][] = [
    ['not an object', [], 'config', /object/],
    ['missing name', withField('name', undefined), 'name', /letters/],
    ['name with a space', withField('name', 'my study'), 'name', /letters/],
    ['name too long', withField('name', 'x'.repeat(101)), 'name', /1-100/],
    ['a name of a study id\'s form', withField('name', '7f06bd626423'), 'name', /form of a study id/],
    ['the name .', withField('name', '.'), 'name', /'\.' or '\.\.'/],
    ['the name ..', withField('name', '..'), 'name', /'\.' or '\.\.'/],
    ['missing scenario', withField('scenario', undefined), 'scenario', /object/],
    ['scenario.steps 0', withField('scenario.steps', 0), 'scenario.steps', /integer/],
    ['scenario typo', withField('scenario.batchSise', 8), 'scenario.batchSise', /unknown/],
    ['space with an unknown parameter', withField('space', { rmax: 3 }), 'space', /unknown schedule parameter/],
    ['space out of range', withField('space', { warmup: { type: 'float', low: 0, high: 2 } }), 'space.warmup', /outside/, false],
    ['missing budget', withField('budget', undefined), 'budget', /object/],
    ['empty budget', withField('budget', {}), 'budget', /trials or timeMinutes/],
    ['2 trials', withField('budget.trials', 2), 'budget.trials', /baselines/],
    ['fractional trials', withField('budget.trials', 5.5), 'budget.trials', /integer/],
    ['zero minutes', withField('budget.timeMinutes', 0), 'budget.timeMinutes', /> 0/],
    ['typo in budget', withField('budget.trails', 5), 'budget.trails', /did you mean 'trials'/],
    ['unknown metric on a local study', withField('objective', { metric: 'accuracy', direction: 'maximize' }), 'objective.metric', /external/],
    ['test metric', withField('objective', { metric: 'testAccuracy', direction: 'maximize' }), 'objective.metric', /valAccuracy/],
    ['objective typo', withField('objective', { metric: 'loss', bound: [0, 1] }), 'objective.bound', /did you mean 'bounds'/],
    ['bounds not a pair', withField('objective', { bounds: [0] }), 'objective.bounds', /pair/],
    ['bounds reversed', withField('objective', { bounds: [1, 0] }), 'objective.bounds', /below/, false],
    ['bounds of strings', withField('objective', { bounds: ['0', 1] }), 'objective.bounds[0]', /number/],
    ['totalSteps on a local study', withField('totalSteps', 100), 'totalSteps', /scenario.steps/],
    ['a string pruner that is no pruner', withField('pruner', 'hyperband'), 'pruner.type', /median/],
    ['a string optimizer that is none', withField('optimizer', 'tpe'), 'optimizer.type', /gp/],
    ['warmStartFrom not a name', withField('warmStartFrom', 'a b'), 'warmStartFrom', /study id or name/],
    ['maximize loss', withField('objective', { metric: 'loss', direction: 'maximize' }), 'objective.direction', /minimize/],
    ['bad direction', withField('objective', { direction: 'up' }), 'objective.direction', /maximize/],
    ['workers 0', withField('workers', 0), 'workers', /integer/],
    ['workers string', withField('workers', '4'), 'workers', /integer/],
    ['seedsPerTrial 11', withField('seedsPerTrial', 11), 'seedsPerTrial', /\[1, 10\]/],
    ['negative seed', withField('seed', -1), 'seed', /integer/],
    ['unknown pruner', withField('pruner', { type: 'hyperband' }), 'pruner.type', /median/],
    ['median option on asha', withField('pruner', { type: 'asha', warmupSteps: 3 }), 'pruner.warmupSteps', /unknown field/],
    ['negative warmupSteps', withField('pruner', { type: 'median', warmupSteps: -5 }), 'pruner.warmupSteps', />= 0/],
    ['reductionFactor 1', withField('pruner', { type: 'asha', reductionFactor: 1 }), 'pruner.reductionFactor', />= 2/],
    ['optimizer type', withField('optimizer', { type: 'tpe' }), 'optimizer.type', /gp/],
    ['acquisition typo', withField('optimizer', { acquisition: 'logie' }), 'optimizer.acquisition', /did you mean 'logei'/],
    ['final seeds -1', withField('finalValidation', { seeds: -1 }), 'finalValidation.seeds', /integer/],
    ['multipliers without 1', withField('finalValidation', { stepsMultipliers: [2, 4] }), 'finalValidation.stepsMultipliers', /must include 1/],
    ['multiplier twice', withField('finalValidation', { stepsMultipliers: [1, 4, 4] }), 'finalValidation.stepsMultipliers', /twice/],
    ['fractional multiplier', withField('finalValidation', { stepsMultipliers: [1, 2.5] }), 'finalValidation.stepsMultipliers[1]', /integer/],
    ['empty multipliers', withField('finalValidation', { stepsMultipliers: [] }), 'finalValidation.stepsMultipliers', /1 to 8/],
    ['multipliers past the step limit', { ...base(), scenario: { dataset: 'mnist', steps: 200_000 }, finalValidation: { stepsMultipliers: [1, 100] } }, 'finalValidation.stepsMultipliers', /limit/, false],
    ['race candidates 0', withField('finalValidation', { race: { candidates: 0 } }), 'finalValidation.race.candidates', /integer/],
    ['race typo', withField('finalValidation', { race: { seed: 2 } }), 'finalValidation.race.seed', /did you mean 'seeds'/],
    ['baselines "no"', withField('baselines', 'no'), 'baselines', /true or false/],
    ['executor', withField('executor', 'remote'), 'executor', /local/],
    ['timeout 0', withField('trialTimeoutSeconds', 0), 'trialTimeoutSeconds', /> 0/],
    ['a 30-day timeout', withField('trialTimeoutSeconds', 30 * 86400), 'trialTimeoutSeconds', /over 2147483 s .*give at most 2147483/],
    ['a 1-day timeout scaled by a 32x final run', { ...base(), trialTimeoutSeconds: 86400, finalValidation: { stepsMultipliers: [1, 32] } }, 'trialTimeoutSeconds', /× the largest finalValidation.stepsMultipliers \(32\) is over .*give at most 67108/, false],
    ['initialTrials 0', withField('optimizer', { initialTrials: 0 }), 'optimizer.initialTrials', /integer/],
    ['memory 10', withField('trialMemoryMb', 10), 'trialMemoryMb', /> 63/],
    ['backend', withField('backend', 'webgl'), 'backend', /wasm/],
    ['space not object', withField('space', 3), 'space', /object/],
    ['top-level typo', withField('budjet', { trials: 5 }), 'budjet', /did you mean 'budget'/],
    ['$schema a number', withField('$schema', 5), '$schema', /must be a string/],
    ['unrelated unknown', withField('colour', 'red'), 'colour', /allowed fields/],
  ];
  for (const [what, raw, field, phrase, schemaToo = true] of bad) {
    it(`rejects ${what}, naming ${field}`, () => {
      assert.throws(() => validateStudyConfig(raw), (e: unknown) => {
        assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
        assert.equal(e.field, field, `wrong field in: ${e.message}`);
        assert.match(e.message, phrase);
        assert.equal(e.status, 400);
        return true;
      });
      if (schemaToo) assert.equal(schemaCheck(raw), false, `the JSON Schema should also reject: ${what}`);
    });
  }
});

describe('external studies', () => {
  const ext = (over: Record<string, unknown> = {}) => ({ name: 'resnet50', executor: 'external', objective: { metric: 'top1', direction: 'maximize' }, ...over });

  it('need only a name, the executor and an objective: no scenario, budget or run length is invented', () => {
    const c = validateStudyConfig(ext());
    assert.equal(c.scenario, undefined);
    assert.equal(c.totalSteps, undefined);
    assert.deepEqual(c.budget, {});
    assert.deepEqual(c.objective, { metric: 'top1', direction: 'maximize' });
    assert.equal(c.seed, 0);
    assert.deepEqual(validateStudyConfig(c), c, 'idempotent');
    assert.ok(schemaCheck(ext()), JSON.stringify(schemaCheck.errors));
    assert.ok(schemaCheck(c), JSON.stringify(schemaCheck.errors));
    assert.equal(studyTotalSteps(c), null);
  });

  it('count the baselines in budget.trials as a local study does: fewer than 3 with baselines on is refused, naming the way out', () => {
    // The first ask hands out both baselines: a budget of 1 went over at once, and no tuned trial ever ran.
    assert.throws(() => validateStudyConfig(ext({ budget: { trials: 1 } })), (e: unknown) => e instanceof ConfigError && e.field === 'budget.trials' && /at least 3 \(the 2 baselines/.test(e.message) && /"baselines": false/.test(e.message));
    assert.throws(() => validateStudyConfig(ext({ budget: { trials: 2 } })), /at least 3/);
    assert.deepEqual(validateStudyConfig(ext({ budget: { trials: 3 } })).budget, { trials: 3 });
    assert.deepEqual(validateStudyConfig(ext({ budget: { trials: 1 }, baselines: false })).budget, { trials: 1 });
    assert.deepEqual(validateStudyConfig({ ...base(), budget: { trials: 1 }, baselines: false }).budget, { trials: 1 }, 'a local study without baselines too');
  });

  it('take totalSteps, a budget of any size, bounds, and a scenario kept exactly as given', () => {
    const c = validateStudyConfig(ext({ totalSteps: 90_000, budget: { trials: 1 }, baselines: false, objective: { metric: 'mAP', direction: 'maximize', bounds: [0, 100] }, scenario: { steps: 90_000 } }));
    assert.equal(studyTotalSteps(c), 90_000);
    assert.deepEqual(c.scenario, { steps: 90_000 }, 'no dataset, batch size or sampler made up');
    assert.deepEqual(objectiveBounds(c.objective), [0, 100]);
    assert.equal(studyTotalSteps(validateStudyConfig(ext({ scenario: { dataset: 'fashion-mnist', steps: 300 } }))), 300);
    assert.ok(schemaCheck(c), JSON.stringify(schemaCheck.errors));
  });

  it('name any metric matching ^[A-Za-z][\\w.-]{0,63}$; known metrics keep their direction and bounds', () => {
    for (const metric of ['top1', 'mAP', 'val.loss', 'f1-macro', 'a', 'x'.repeat(64)]) assert.equal(validateStudyConfig(ext({ objective: { metric, direction: 'minimize' } })).objective.metric, metric);
    for (const metric of ['1top', '', 'top 1', 'top/1', 'x'.repeat(65), 'é']) {
      assert.throws(() => validateStudyConfig(ext({ objective: { metric, direction: 'maximize' } })), (e: unknown) => e instanceof ConfigError && e.field === 'objective.metric', metric);
    }
    assert.throws(() => validateStudyConfig(ext({ objective: { metric: 'top1' } })), (e: unknown) => e instanceof ConfigError && e.field === 'objective.direction' && /higher is better/.test(e.message));
    assert.equal(schemaCheck(ext({ objective: { metric: 'top1' } })), false, 'the schema also wants a direction for an unknown metric');
    assert.deepEqual(validateStudyConfig(ext({ objective: { metric: 'loss' } })).objective, { metric: 'loss', direction: 'minimize' });
    assert.throws(() => validateStudyConfig(ext({ objective: { metric: 'valAccuracy', direction: 'minimize' } })), (e: unknown) => e instanceof ConfigError && e.field === 'objective.direction');
    assert.deepEqual(objectiveBounds({ metric: 'valAccuracy' }), [0, 1]);
    assert.deepEqual(objectiveBounds({ metric: 'loss' }), [0, null]);
    assert.deepEqual(objectiveBounds({ metric: 'top1' }), [null, null]);
    assert.deepEqual(objectiveBounds({ metric: 'valAccuracy', bounds: [0, 100] }), [0, 100], 'explicit bounds win');
  });

  it('refuse a totalSteps that disagrees with their scenario, and a budget of 0 trials', () => {
    assert.throws(() => validateStudyConfig(ext({ totalSteps: 100, scenario: { steps: 200 } })), (e: unknown) => e instanceof ConfigError && e.field === 'totalSteps');
    assert.throws(() => validateStudyConfig(ext({ budget: { trials: 0 } })), (e: unknown) => e instanceof ConfigError && e.field === 'budget.trials');
    assert.throws(() => validateStudyConfig(ext({ totalSteps: 1.5 })), (e: unknown) => e instanceof ConfigError && e.field === 'totalSteps');
  });

  it('a local study still needs its scenario and budget, and localScenario says why an external one has none', () => {
    assert.throws(() => validateStudyConfig({ name: 'x' }), (e: unknown) => e instanceof ConfigError && e.field === 'scenario');
    assert.equal(schemaCheck({ name: 'x' }), false);
    assert.throws(() => localScenario(validateStudyConfig(ext())), (e: unknown) => e instanceof ConfigError && /external/.test(e.message));
    assert.equal(localScenario(validateStudyConfig(base())).steps, 500);
  });
});

describe('shorthands', () => {
  it('a plain string names a pruner, an optimizer, a sampler or a training optimizer with its defaults', () => {
    const c = validateStudyConfig({ ...base(), pruner: 'median', optimizer: 'random', scenario: { dataset: 'mnist', steps: 500, sampler: 'sorted', optimizer: 'sgd' } });
    assert.deepEqual(c.pruner, { type: 'median' });
    assert.deepEqual(c.optimizer, { type: 'random', acquisition: 'logei' });
    assert.equal(c.scenario?.sampler?.type, 'sorted');
    assert.equal(c.scenario?.optimizer?.type, 'sgd');
    assert.ok(schemaCheck({ ...base(), pruner: 'asha', optimizer: 'gp', scenario: { sampler: 'iid', optimizer: 'adam' } }), JSON.stringify(schemaCheck.errors));
    assert.throws(() => validateStudyConfig({ ...base(), scenario: { sampler: 'classes' } }), (e: unknown) => e instanceof ConfigError && e.field === 'scenario.sampler.k');
  });
});

describe('the README config table', () => {
  it('documents every field of the schema, every space parameter and every pruner setting, and shows no shorthand the validator refuses', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Study config'), readme.indexOf('## CLI'));
    const props = (schema as { properties: Record<string, unknown> }).properties;
    for (const key of Object.keys(props).filter((k) => k !== '$schema')) assert.match(section, new RegExp(`\`${key}\``), `README's study config table lacks ${key}`);
    for (const p of scheduleParamNames) assert.match(section, new RegExp(`\`${p}\``), `space parameter ${p}`);
    for (const s of ['warmupSteps', 'minTrials', 'minResource', 'reductionFactor', 'acquisition', 'initialTrials', 'bounds']) assert.match(section, new RegExp(`"?${s}"?`), s);
    // Every plain-string shorthand the table shows must validate.
    const c = validateStudyConfig({ name: 'x', scenario: { sampler: 'iid', optimizer: 'adam' }, budget: { trials: 3 }, pruner: 'median', optimizer: 'gp' });
    assert.deepEqual([c.pruner.type, c.optimizer.type, c.scenario?.sampler?.type, c.scenario?.optimizer?.type], ['median', 'gp', 'iid', 'adam']);
  });
});

describe('loadStudyConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'renorm-config-'));
  it('names the file when it is missing, not JSON, or invalid', (t) => {
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const missing = join(dir, 'missing.json');
    assert.throws(() => loadStudyConfig(missing), (e: unknown) => e instanceof DataError && e.message.includes(missing) && /ENOENT, no such file: check the path/.test(e.message));
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"name": "x",');
    assert.throws(() => loadStudyConfig(broken), (e: unknown) => e instanceof DataError && e.message.includes(broken) && /not valid JSON: line 1, column 14/.test(e.message));
    const comma = join(dir, 'comma.json');
    writeFileSync(comma, '{\n  "name": "x",\n  "budget": {"trials": 5,},\n  "scenario": {}\n}\n');
    assert.throws(() => loadStudyConfig(comma), (e: unknown) => e instanceof DataError && /line 3, column 26/.test(e.message), 'a trailing comma is found by line and column');
    const invalid = join(dir, 'invalid.json');
    writeFileSync(invalid, JSON.stringify(withField('budget.trials', 1)));
    assert.throws(() => loadStudyConfig(invalid), (e: unknown) => e instanceof ConfigError && e.field === 'budget.trials' && e.message.startsWith(invalid));
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify(base()));
    assert.equal(loadStudyConfig(good).name, 'mnist-small');
  });
});

describe('shipped study configs', () => {
  it('every configs/*.json with a budget validates, and matches the schema', () => {
    const dir = fileURLToPath(new URL('../../../configs/', import.meta.url));
    const studies = readdirSync(dir).filter((f) => f.endsWith('.json')).filter((f) => 'budget' in JSON.parse(readFileSync(join(dir, f), 'utf8')));
    for (const f of studies) {
      const raw = JSON.parse(readFileSync(join(dir, f), 'utf8'));
      assert.doesNotThrow(() => loadStudyConfig(join(dir, f)), f);
      assert.ok(schemaCheck(raw), `${f}: ${JSON.stringify(schemaCheck.errors)}`);
    }
  });
});
