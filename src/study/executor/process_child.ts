// The child process of ProcessExecutor: runs one trial at a time with a trial-worker module, relaying progress over IPC.
import { MessageChannel } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { loadDataset } from '../../data/index.js';
import type { DatasetSpec } from '../../data/types.js';
import type { TrialHandler, WorkerMessage } from './protocol.js';
import type { TrialJob } from './types.js';

/** Parent -> child. */
export type ChildRequest = { type: 'run'; job: TrialJob; filename: string; loadData: boolean } | { type: 'stop' };
/** Child -> parent. */
export type ChildReply =
  | { type: 'started' }
  | { type: 'progress'; progress: unknown }
  | { type: 'result'; result: unknown }
  | { type: 'error'; message: string; unavailable?: true };

const handlers = new Map<string, Promise<TrialHandler>>();
let stopCurrent: (() => void) | undefined;

function send(reply: ChildReply): void {
  process.send?.(reply);
}

async function run(req: Extract<ChildRequest, { type: 'run' }>): Promise<void> {
  // The module stays loaded between trials: a native backend initialises once per process, as a pool thread does.
  let handler = handlers.get(req.filename);
  if (!handler) {
    handler = import(pathToFileURL(req.filename).href).then((m: { default: TrialHandler }) => m.default);
    handlers.set(req.filename, handler);
  }
  const { port1, port2 } = new MessageChannel();
  const stopFlag = new SharedArrayBuffer(4);
  let drained!: () => void;
  const allProgress = new Promise<void>((r) => (drained = r));
  let unavailable = false;
  port1.on('message', (m: WorkerMessage) => {
    if (m.type === 'progress') send({ type: 'progress', progress: m.progress });
    else if (m.type === 'unavailable') unavailable = true;
    else if (m.type === 'done') drained();
  });
  stopCurrent = () => {
    Atomics.store(new Int32Array(stopFlag), 0, 1);
    port1.postMessage({ type: 'stop' });
  };
  try {
    const dataset = req.loadData ? await loadDataset(((req.job.scenario as { dataset?: DatasetSpec }).dataset ?? 'mnist')) : undefined;
    const train = await handler;
    // The trial's own clock starts here: a fresh process's start-up, module import and dataset are not the trial's.
    send({ type: 'started' });
    const result = await train({ job: req.job, dataset, port: port2, stopFlag });
    // Progress travels on the port, the result returns here: let the last progress out first.
    await Promise.race([allProgress, new Promise((r) => setTimeout(r, 1000).unref())]);
    send({ type: 'result', result });
  } catch (err) {
    // An `unavailable` from the trial worker travels on the port, ahead of its 'done'.
    await Promise.race([allProgress, new Promise((r) => setTimeout(r, 1000).unref())]);
    send({ type: 'error', message: (err as Error)?.message ?? String(err), ...(unavailable ? { unavailable: true as const } : {}) });
  } finally {
    stopCurrent = undefined;
    port1.close();
  }
}

process.on('message', (req: ChildRequest) => {
  if (req.type === 'stop') stopCurrent?.();
  else if (req.type === 'run') void run(req);
});
// The parent going away (a killed worker) must not leave a trainer behind holding a GPU.
process.on('disconnect', () => process.exit(0));
