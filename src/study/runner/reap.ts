// Sends a study's trials whose holders are gone back to the queue: expired leases, and at once those of dead processes on this host.
import { deadLocalOwners } from '../owner.js';
import type { StudyService } from '../service.js';
import type { TrialRecord } from '../types.js';

/**
 * A `run` or `worker` on this host killed with SIGKILL has its trials requeued now rather than at lease expiry;
 * other hosts' holders are judged by their leases alone. Returns the trials requeued or failed (maxRetries).
 */
export async function reapDead(service: StudyService, studyId: string): Promise<TrialRecord[]> {
  const owners = (await service.listTrials(studyId, { states: ['RUNNING'] })).map((t) => t.lease?.owner).filter((o): o is string => !!o);
  return service.reapExpired(studyId, deadLocalOwners(owners));
}
