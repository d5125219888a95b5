// What a trial trained on, as its trainer reported in the trial's metrics (the TF.js backend and the device it
// computed on), and who trained it (the lease owner that finished it, kept in its metrics as `trainedBy`).
// Browser-safe; the queue worker's metrics, `show`, the CSV and the dashboard read it alike, and every output names a
// backend and its device through backendOnDevice.
import { isExternalOwner, processOwnerParts } from './owners.js';
import { roleKind } from './roles.js';

/** The backend a trial trained on, and the device: 'GPU', 'CPU', or 'unknown' where the trainer did not say. */
export interface TrainedOn {
  backend: string;
  device: 'GPU' | 'CPU' | 'unknown';
}

/** The key of a finished trial's metrics naming the lease owner that trained it (a queue worker, a local run). */
export const TRAINED_BY = 'trainedBy';

/** Who trained a finished trial (`host:pid:worker-xxxxxx`), or nothing (an outside trainer's, or an older trial). */
export function trainedBy(metrics: Readonly<Record<string, unknown>> | null | undefined): string | undefined {
  const by = metrics?.[TRAINED_BY];
  return typeof by === 'string' ? by : undefined;
}

/**
 * Who trains a trial now (its lease's owner) or trained it to its end; null when nobody says: an outside trainer's
 * trial, whose lease names its ask (`external:<askId>`), not a machine.
 */
export function trialWorker(t: { lease: { owner: string } | null; metrics: Readonly<Record<string, unknown>> | null }): string | null {
  const owner = t.lease?.owner;
  return owner !== undefined && !isExternalOwner(owner) ? owner : trainedBy(t.metrics) ?? null;
}

/** What a finished trial's metrics say it trained on, or nothing (an outside trainer, or one that names no backend). */
export function trainedOn(metrics: Readonly<Record<string, unknown>> | null | undefined): TrainedOn | undefined {
  const backend = metrics?.backend;
  if (typeof backend !== 'string') return undefined;
  const device = metrics?.device;
  return { backend, device: device === 'GPU' || device === 'CPU' ? device : 'unknown' };
}

/** `node-gpu on the GPU`, or the backend alone where the device is not known: how every output names what trained. */
export function backendOnDevice(backend: string, device?: TrainedOn['device']): string {
  return device && device !== 'unknown' ? `${backend} on the ${device}` : backend;
}

/**
 * `node-gpu on the GPU (12 trials), wasm on the CPU (3 trials)`: what the trials that say so trained on, most first,
 * and a word where tfjs-node-gpu found no GPU; null when no trial says (an outside trainer's study). The counts take
 * in the race's and the final validation's runs, which a study's progress does not count, and then say how many of
 * them there are. `show` prints it on its `trained` line and the dashboard in the study's header.
 */
export function trainedOnSummary(trials: ReadonlyArray<{ role?: string; metrics?: Readonly<Record<string, unknown>> | null }>): string | null {
  const counts = new Map<string, number>();
  let total = 0;
  let after = 0;
  for (const t of trials) {
    const on = trainedOn(t.metrics);
    if (!on) continue;
    const key = backendOnDevice(on.backend, on.device);
    counts.set(key, (counts.get(key) ?? 0) + 1);
    total++;
    const kind = roleKind(t.role ?? 'search');
    if (kind === 'race' || kind === 'final') after++;
  }
  if (!counts.size) return null;
  const parts = [...counts].sort((a, b) => b[1] - a[1]).map(([on, n]) => `${on} (${n} trial${n === 1 ? '' : 's'})`);
  const gpuless = backendOnDevice('node-gpu', 'CPU');
  const runs = after === 0 ? '' : `; ${after === total ? (total === 1 ? 'it is a' : `all ${total} are`) : `${after} of the ${total} are`} race or final validation run${after === 1 ? '' : 's'}`;
  return `${parts.join(', ')}${runs}${counts.has(gpuless) ? `; ${gpuless}: TensorFlow found no GPU on those machines` : ''}`;
}

/** `device 0` or `devices 0, 1`: GPU indices as every output names them; '' for none. */
export function devicesText(devices: readonly string[] | undefined): string {
  return devices?.length ? `device${devices.length > 1 ? 's' : ''} ${devices.join(', ')}` : '';
}

/**
 * Who trains a study of ours, as its trials' owners say (running ones by their lease, finished ones by `trainedBy`):
 * `3 queue workers on gpu-1, gpu-2`, `a run on laptop`, or both (a study begun by a run and moved to a queue); null
 * when no trial names one (none started yet, an outside trainer's study, or trials older than trainedBy). Workers
 * are counted by process: one restarted counts again. `show` heads the study with it and the dashboard its header,
 * where the config's word `local` would hide a queue.
 */
export function trainersText(trials: ReadonlyArray<{ lease: { owner: string } | null; metrics?: Readonly<Record<string, unknown>> | null }>): string | null {
  const hostsBy = new Map<string, Set<string>>();
  const workers = new Set<string>();
  for (const t of trials) {
    const owner = trialWorker({ lease: t.lease, metrics: t.metrics ?? null });
    const parts = owner === null ? undefined : processOwnerParts(owner);
    if (!parts || (parts.role !== 'worker' && parts.role !== 'run')) continue;
    if (parts.role === 'worker') workers.add(owner!);
    const hosts = hostsBy.get(parts.role) ?? new Set<string>();
    hostsBy.set(parts.role, hosts.add(parts.host));
  }
  const on = (hosts: Set<string>) => (hosts.size <= 3 ? [...hosts].sort().join(', ') : `${hosts.size} hosts`);
  const said: string[] = [];
  const runs = hostsBy.get('run');
  if (runs) said.push(`${runs.size === 1 ? 'a run' : 'runs'} on ${on(runs)}`);
  const queue = hostsBy.get('worker');
  if (queue) said.push(`${workers.size} queue worker${workers.size === 1 ? '' : 's'} on ${on(queue)}`);
  return said.length ? said.join(' and ') : null;
}

/** The trainer a study's config names (its `executor`), in the words every output uses. */
export function executorWords(executor: string): string {
  return executor === 'external' ? 'outside trainer' : 'built-in trainer';
}

/** `trained by 3 queue workers on gpu-1` once a trial names who trains it (trainersText), else the config's trainer. */
export function studyTrainerText(v: { executor: string; trials: Parameters<typeof trainersText>[0] }): string {
  const by = trainersText(v.trials);
  return by ? `trained by ${by}` : executorWords(v.executor);
}
