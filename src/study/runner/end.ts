// Ends a run: the study is marked STOPPED or COMPLETE, the phase is announced, and the result reported.
import { NotFoundError } from '../../errors.js';
import { StudyDeletedError } from '../errors.js';
import type { RunnerEvent, RunStudyResult } from '../runner.js';
import type { StudyService } from '../service.js';
import type { StudyRecord } from '../types.js';

/** Shared by the local runner and the queue coordinator, so both end a run the same way. */
export async function endStudy(
  service: StudyService, sid: string, state: RunStudyResult['state'], resumed: boolean, emit: (e: RunnerEvent) => void,
): Promise<RunStudyResult> {
  await service.setStudyState(sid, state);
  emit({ type: 'phase', studyId: sid, phase: state === 'STOPPED' ? 'stopped' : 'done' });
  return { study: await service.resolve(sid), state, resumed };
}

/** `renorm-tune stop` (or POST /stop) from elsewhere: the study is STOPPED in the store. Both runners look on every pass. */
export async function isStopped(service: StudyService, sid: string): Promise<boolean> {
  return (await service.resolve(sid)).state === 'STOPPED';
}

/** `err` as the run reports it: "study … not found" from a study deleted under the run says so, and which study. */
export async function explainDeleted(err: unknown, service: StudyService, study: StudyRecord): Promise<unknown> {
  if (!(err instanceof NotFoundError) || err instanceof StudyDeletedError) return err;
  try {
    await service.resolve(study.id);
    return err;
  } catch (again) {
    return again instanceof NotFoundError ? new StudyDeletedError(study.name, study.id) : err;
  }
}
