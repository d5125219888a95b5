// How a queue's workers and the trials they hold read, in `renorm-tune queue` and on the dashboard's landing page alike.
// Browser-safe.
import type { HeldTrial } from '../distributed/status.js';
import type { WorkerPresence } from '../distributed/presence.js';
import { roleLabel } from './roles.js';
import { backendOnDevice, devicesText } from './trained_on.js';

/** `node-gpu on the GPU, devices 0, 1`: what a worker was told to train on; '' when nothing (each study's backend). */
export function trainsOnText(w: Pick<WorkerPresence, 'backend' | 'device' | 'devices'>): string {
  const backend = w.backend ? backendOnDevice(w.backend, w.device) : '';
  return [backend, devicesText(w.devices)].filter(Boolean).join(', ');
}

/** `'brn-cifar' #12 (BatchNorm) since 2026-…, at step 400`: a trial a worker holds, as the database has it. */
export function heldText(t: HeldTrial): string {
  const role = t.role === 'search' ? '' : ` (${roleLabel(t.role)})`;
  return `'${t.studyName}' #${t.number}${role}${t.startedAt ? ` since ${t.startedAt}` : ''}${t.lastStep === null ? ', no report yet' : `, at step ${t.lastStep}`}`;
}
