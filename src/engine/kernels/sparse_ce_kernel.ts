// Softmax cross-entropy from logits and int32 class ids in one JS kernel, with its gradient, for small class counts.
import * as tf from '@tensorflow/tfjs';
import { withViews } from './heap.js';

export const SPARSE_CE = 'RenormTuneSparseSoftmaxCE';

type Args = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend };

function int32View(backend: tf.KernelBackend, t: tf.TensorInfo): Int32Array {
  const b = backend as unknown as { typedArrayFromHeap?(t: tf.TensorInfo): Int32Array; data?: { get(id: tf.DataId): { values?: unknown } } };
  const v = b.typedArrayFromHeap ? b.typedArrayFromHeap(t) : b.data!.get(t.dataId).values;
  if (!(v instanceof Int32Array)) throw new Error('labels must be an int32 tensor');
  return v;
}

/**
 * Outputs [loss (scalar, batch mean), dlogits = (softmax(logits) - onehot(labels)) / n]; the max-shifted
 * log-sum-exp is evaluated in float64. Replaces ~20 generic kernels (oneHot, casts, softmax, log, sums, ...).
 */
function sparseCE({ inputs, backend }: Args): tf.TensorInfo[] {
  const logits = inputs['logits']!;
  const labelsInfo = inputs['labels']!;
  const [n, k] = logits.shape as [number, number];
  const { outs, ins, outViews } = withViews(backend, [logits], [[], [n, k]]);
  const z = ins[0]!;
  const labels = int32View(backend, labelsInfo); // taken after allocation: the heap may have moved
  const [lossOut, grad] = outViews as [Float32Array, Float32Array];
  let total = 0;
  for (let i = 0; i < n; i++) {
    const row = i * k;
    const y = labels[i]!;
    if (!(y >= 0 && y < k)) throw new RangeError(`labels[${i}] = ${y} is outside [0, ${k}) (fix: class ids must index the logits)`);
    let max = -Infinity;
    for (let j = 0; j < k; j++) max = Math.max(max, z[row + j]!);
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.exp(z[row + j]! - max);
    total += Math.log(sum) + max - z[row + y]!;
    for (let j = 0; j < k; j++) grad[row + j] = (Math.exp(z[row + j]! - max) / sum - (j === y ? 1 : 0)) / n;
  }
  lossOut[0] = total / n;
  return outs;
}

export function registerSparseCEKernel(backendName: 'wasm' | 'cpu'): void {
  if (tf.getKernel(SPARSE_CE, backendName)) return;
  tf.registerKernel({ kernelName: SPARSE_CE, backendName, kernelFunc: sparseCE as unknown as tf.KernelFunc });
}

/**
 * Mean softmax cross-entropy of `logits` [n, k] against int32 class ids [n], differentiable w.r.t. logits.
 * Uses the fused kernel where registered, else tf.losses.softmaxCrossEntropy.
 */
export function sparseSoftmaxCrossEntropy(logits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  if (!tf.getKernel(SPARSE_CE, tf.getBackend()) || logits.rank !== 2) {
    return tf.losses.softmaxCrossEntropy(tf.oneHot(labels.toInt(), logits.shape[logits.rank - 1]!), logits) as tf.Scalar;
  }
  const ids = labels.dtype === 'int32' ? labels : labels.toInt();
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const z = args[0] as tf.Tensor;
    const save = args[1] as tf.GradSaveFunc;
    const [loss, grad] = tf.engine().runKernel(SPARSE_CE, { logits: z, labels: ids }) as tf.Tensor[];
    save([grad!]);
    return { value: loss!, gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => [tf.mul(saved[0]!, dy as tf.Tensor)] };
  });
  return f(logits) as tf.Scalar;
}
