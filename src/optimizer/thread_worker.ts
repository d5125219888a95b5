// Entry file of ThreadedOptimizer's worker thread (found beside threaded.js in dist/): serves the optimizer named in workerData.
import { parentPort, workerData } from 'node:worker_threads';
import { serve } from './thread_serve.js';
import type { WorkerInit } from './thread_protocol.js';

const init = (workerData as { renormTuneOptimizer?: WorkerInit } | null)?.renormTuneOptimizer;
if (!parentPort || !init) throw new Error('thread_worker.js is the entry of a ThreadedOptimizer worker thread; it cannot run on its own');
serve(parentPort, init);
