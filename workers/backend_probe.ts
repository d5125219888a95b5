// The child of src/study/executor/backend_probe.ts (a worker's or a run's start-up check): starts the backend named by
// argv[2] as a trial's process would, and prints what came of it as one JSON line ({ name, device } or { code,
// message }), exiting 0 or 3. It lives beside the trial worker: TF.js loads only in these processes.
import { initBackend, type BackendName } from '../src/engine/backend.js';

try {
  process.stdout.write(`${JSON.stringify(await initBackend(process.argv[2] as BackendName))}\n`);
} catch (err) {
  process.stdout.write(`${JSON.stringify({ code: (err as { code?: string }).code ?? 'ERROR', message: (err as Error).message })}\n`);
  process.exitCode = 3;
}
