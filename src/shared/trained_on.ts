// What a trial trained on, as its trainer reported in the trial's metrics: the TF.js backend and the device it
// computed on. Browser-safe; the queue worker's metrics and `show` read it alike.

/** The backend a trial trained on, and the device: 'GPU', 'CPU', or 'unknown' where the trainer did not say. */
export interface TrainedOn {
  backend: string;
  device: 'GPU' | 'CPU' | 'unknown';
}

/** What a finished trial's metrics say it trained on, or nothing (an outside trainer, or one that names no backend). */
export function trainedOn(metrics: Readonly<Record<string, unknown>> | null | undefined): TrainedOn | undefined {
  const backend = metrics?.backend;
  if (typeof backend !== 'string') return undefined;
  const device = metrics?.device;
  return { backend, device: device === 'GPU' || device === 'CPU' ? device : 'unknown' };
}
