// Before a queue worker (or a local run) takes trials on a native backend it was given by name (--backend, the study
// config's "backend"), the backend is started once on each of its devices, in a process of its own with that
// device's environment, as its trials will be. A GPU machine whose TensorFlow finds no GPU (or a --devices index it
// lacks) is then refused at the start, not at a first trial, which for a worker may come hours later: until then an
// idle worker looked ready.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ActiveBackend } from '../../engine/backend.js';
import { BackendError } from '../../errors.js';
import type { BackendName } from '../../shared/names.js';
import { devicesText } from '../../shared/trained_on.js';
import { deviceEnv } from './process.js';

const CHILD = fileURLToPath(new URL('../../../workers/backend_probe.js', import.meta.url));
/** Loading native TensorFlow and listing its devices takes seconds; a probe that hangs is a failure too. */
const PROBE_MS = 120_000;

/** What the backend became on `device`; a BackendError naming the device when it did not start. */
function probeOne(backend: string, device: string | undefined): Promise<ActiveBackend> {
  const where = device === undefined ? '' : `device ${device}: `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, backend], { env: deviceEnv(device), stdio: ['ignore', 'pipe', 'inherit'], timeout: PROBE_MS });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', (err) => reject(new BackendError(`${where}backend '${backend}' could not be checked: ${err.message}`)));
    child.on('close', (code, signal) => {
      let said: (ActiveBackend & { code?: string; message?: string }) | undefined;
      try {
        said = JSON.parse(out.trim().split('\n').pop() || 'null') as typeof said;
      } catch {
        said = undefined;
      }
      if (code === 0 && said?.name) return resolve({ name: said.name, ...(said.device ? { device: said.device } : {}) });
      const why = said?.message ?? `its check process ended with ${signal ?? `exit ${String(code)}`} (its output is above)`;
      reject(new BackendError(`${where}${why}`));
    });
  });
}

/**
 * Starts `backend` on every device (or once, without `devices`), all at once, and waits for every check to end; the
 * first refusal is thrown, naming the other devices refused. (`renorm-tune doctor` checks wasm, cpu and auto this way too.)
 */
export async function probeBackend(backend: BackendName, devices: string[] | undefined): Promise<ActiveBackend[]> {
  const all = devices ?? [undefined];
  const settled = await Promise.allSettled(all.map((d) => probeOne(backend, d)));
  const refused = settled.flatMap((s, i) => (s.status === 'rejected' ? [{ device: all[i], err: s.reason as Error }] : []));
  if (refused.length) {
    const others = refused.slice(1).map((r) => r.device);
    throw others.length ? new BackendError(`${refused[0]!.err.message} (refused on ${devicesText(others as string[])} too)`) : refused[0]!.err;
  }
  return settled.map((s) => (s as PromiseFulfilledResult<ActiveBackend>).value);
}
