// Worker-thread side of ThreadedOptimizer: an in-process optimizer driven by the ordered message stream of thread_protocol.ts.
import type { MessagePort } from 'node:worker_threads';
import { createOptimizer } from './factory.js';
import type { Answer, ToWorker, WorkerInit } from './thread_protocol.js';

/** Applies one message to `opt` and returns the answer for a query (undefined for an update). */
export async function handle(opt: ReturnType<typeof createOptimizer>, msg: ToWorker): Promise<Answer | undefined> {
  switch (msg.op) {
    case 'observe':
      await opt.addObservation(msg.params, msg.value);
      return undefined;
    case 'pending':
      opt.addPendingWithId(msg.id, msg.params);
      return undefined;
    case 'tell':
      await opt.tell(msg.id, msg.value);
      return undefined;
  }
  try {
    let result: Extract<Answer, { ok: true }>['result'];
    if (msg.op === 'suggest') result = opt.suggest(msg.count);
    else if (msg.op === 'slices') result = await opt.slices(msg.center, msg.points);
    else if (msg.op === 'recommend') result = await opt.recommend(msg.among);
    else result = await opt.importance();
    return { call: msg.call, ok: true, result };
  } catch (e) {
    const err = e as { name?: string; message?: string; code?: string };
    return { call: msg.call, ok: false, error: { name: err.name ?? 'Error', message: err.message ?? String(e), ...(err.code ? { code: err.code } : {}) } };
  }
}

/** Runs the message loop on `port`: messages are handled strictly one after another, in arrival order. */
export function serve(port: MessagePort, init: WorkerInit): void {
  const opt = createOptimizer(init.kind, init.options);
  let chain = Promise.resolve();
  port.on('message', (msg: ToWorker) => {
    chain = chain.then(async () => {
      try {
        const answer = await handle(opt, msg);
        if (answer) port.postMessage(answer);
      } catch (e) {
        // Only an update can throw here (queries answer with their error). The main side validated it, so
        // this copy has diverged from the record: die, and let the host rebuild a worker from the record.
        setImmediate(() => {
          throw e;
        });
      }
    });
  });
}
