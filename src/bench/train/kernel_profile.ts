// Per-kernel CPU time of training steps: wraps every kernel of the active backend with a timer, then restores them.
import * as tf from '@tensorflow/tfjs';

export interface KernelRow {
  kernel: string;
  /** CPU milliseconds per step spent in this kernel (outermost calls only: composites include their parts). */
  msPerStep: number;
  callsPerStep: number;
}

function cpuMs(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
}

/**
 * Runs `run(steps)` with every kernel of the active backend timed by process CPU time (steadier than wall time on
 * a shared machine). Returns the kernels sorted by time and the total CPU ms per step, kernels or not.
 */
export function profileKernels(steps: number, run: (steps: number) => void): { rows: KernelRow[]; totalMsPerStep: number } {
  const backend = tf.getBackend();
  const originals = tf.getKernelsForBackend(backend);
  const agg = new Map<string, { ms: number; calls: number }>();
  let depth = 0;
  for (const k of originals) {
    const inner = k.kernelFunc;
    tf.unregisterKernel(k.kernelName, backend);
    tf.registerKernel({
      kernelName: k.kernelName,
      backendName: backend,
      kernelFunc: (args) => {
        depth++;
        const t0 = cpuMs();
        try {
          return inner(args);
        } finally {
          depth--;
          if (depth === 0) {
            const a = agg.get(k.kernelName) ?? { ms: 0, calls: 0 };
            a.ms += cpuMs() - t0;
            a.calls++;
            agg.set(k.kernelName, a);
          }
        }
      },
    });
  }
  const t0 = cpuMs();
  try {
    run(steps);
  } finally {
    // Put the original configs back (their setup already ran when the backend initialised).
    for (const k of originals) {
      tf.unregisterKernel(k.kernelName, backend);
      tf.registerKernel(k);
    }
  }
  const totalMsPerStep = (cpuMs() - t0) / steps;
  const rows = [...agg.entries()]
    .map(([kernel, a]) => ({ kernel, msPerStep: a.ms / steps, callsPerStep: a.calls / steps }))
    .sort((a, b) => b.msPerStep - a.msPerStep);
  return { rows, totalMsPerStep };
}
