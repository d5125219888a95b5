// The production wiring of the service: the optimizer package's factory and space, and the schedule export.
import { ThreadedOptimizer, createOptimizer, type OptimizerOptions } from '../../optimizer/index.js';
import { mergeScheduleSpace, paramsToSchedule } from '../schedule_space.js';
import type { SearchSpace } from '../../optimizer/index.js';
import { buildExport } from '../export.js';
import type { StudyConfig } from '../config.js';
import { type ServiceDeps, StudyService } from '../service.js';
import type { Storage } from '../types.js';
import { PACKAGE_VERSION } from '../../version.js';

/** The study's search space: the default ramp space with the config's `space` override applied. */
export function studySpace(config: StudyConfig): SearchSpace {
  return mergeScheduleSpace(config.space);
}

function optimizerOptions(config: StudyConfig): OptimizerOptions {
  return {
    space: studySpace(config),
    direction: config.objective.direction,
    seed: config.seed,
    acquisition: config.optimizer.acquisition,
    ...(config.optimizer.initialTrials !== undefined ? { initialTrials: config.optimizer.initialTrials } : {}),
  };
}

/**
 * `threads` (default true): each study's optimizer fits and searches in a worker thread, so a 2,000-trial GP ask
 * never blocks the event loop of a server answering other requests; false keeps it in this thread (tests, tools).
 */
export function defaultServiceDeps(opts: { threads?: boolean } = {}): ServiceDeps {
  const threads = opts.threads !== false;
  return {
    createOptimizer: (config) =>
      threads ? new ThreadedOptimizer(config.optimizer.type, optimizerOptions(config)) : createOptimizer(config.optimizer.type, optimizerOptions(config)),
    paramsToSchedule: (params) => paramsToSchedule(params),
    buildExport: (study, trials, model) => buildExport(study, trials, { packageVersion: PACKAGE_VERSION, model }),
  };
}

/** A StudyService over `storage` with the real optimizer (in a worker thread per study) and export. */
export function createStudyService(storage: Storage, opts: { threads?: boolean } = {}): StudyService {
  return new StudyService(storage, defaultServiceDeps(opts));
}
