// Ends a run: the study is marked STOPPED or COMPLETE, the phase is announced, and the result reported.
import type { RunnerEvent, RunStudyResult } from '../runner.js';
import type { StudyService } from '../service.js';

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
