// Opens the study a run targets: a stored one by id or name, or the study of a config's name (created, or resumed when its setup matches).
import { ConflictError } from '../../errors.js';
import type { StudyConfig } from '../config.js';
import type { StudyService } from '../service.js';
import type { StudyRecord } from '../types.js';

/** Shared by the local runner and the queue coordinator, so both resume by the same rules. */
export async function openStudy(target: StudyConfig | string, service: StudyService): Promise<{ study: StudyRecord; resumed: boolean }> {
  if (typeof target === 'string') return { study: await service.resolve(target), resumed: true };
  const { study, resumed } = await service.openStudy(target);
  if (!resumed) return { study, resumed };
  // Same name = continue that study; a changed scenario or objective would mix incomparable trials.
  for (const key of ['scenario', 'objective', 'space'] as const) {
    if (JSON.stringify(study.config[key]) !== JSON.stringify(target[key])) {
      throw new ConflictError(`study '${target.name}' exists with a different ${key}; rename the study to start a new one, or restore its ${key} to resume it`);
    }
  }
  return { study, resumed };
}
