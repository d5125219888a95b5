// The process's own Prometheus series (CPU, memory, event-loop lag, GC: prom-client's defaults under renorm_tune_),
// one registry per process: each collector watches the whole process, however many servers or endpoints merge it in.
import { Registry, collectDefaultMetrics } from 'prom-client';

export const METRICS_PREFIX = 'renorm_tune_';

let registry: Registry | undefined;

/** Created on first use, so a process that never serves metrics starts no collector. */
export function processMetrics(): Registry {
  if (!registry) {
    registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: METRICS_PREFIX });
  }
  return registry;
}
