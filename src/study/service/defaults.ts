// The production wiring of the service: the optimizer package's factory and space, and the schedule export.
import { createOptimizer } from '../../optimizer/index.js';
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

export function defaultServiceDeps(): ServiceDeps {
  return {
    createOptimizer: (config) =>
      createOptimizer(config.optimizer.type, {
        space: studySpace(config),
        direction: config.objective.direction,
        seed: config.seed,
        acquisition: config.optimizer.acquisition,
        ...(config.optimizer.initialTrials !== undefined ? { initialTrials: config.optimizer.initialTrials } : {}),
      }),
    paramsToSchedule: (params) => paramsToSchedule(params),
    buildExport: (study, trials) => buildExport(study, trials, { packageVersion: PACKAGE_VERSION }),
  };
}

/** A StudyService over `storage` with the real optimizer and export. */
export function createStudyService(storage: Storage): StudyService {
  return new StudyService(storage, defaultServiceDeps());
}
