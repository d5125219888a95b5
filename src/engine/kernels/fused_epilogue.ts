// What tfjs fuses after a product or a convolution (`_FusedMatMul`, `FusedConv2D`): a bias of one value per output
// channel, then an activation, run on our product's output in place or through the backend's own kernels.
import { type Backend, type Info, free, runWasm } from './wasm_ops.js';
import { heapF32, heapOffset } from './simd/index.js';

export interface Epilogue {
  bias?: Info;
  activation?: string;
  leakyreluAlpha?: number;
  preluActivationWeights?: Info;
}

/** Whether our epilogue takes `bias` for `channels` outputs: absent, or float32 with one value per channel. */
export function plainBias(bias: Info | undefined, channels: number): boolean {
  return !bias || (bias.dtype === 'float32' && bias.shape.length === 1 && bias.shape[0] === channels);
}

/** The activations tfjs fuses (tfjs' `applyActivation`), as the backend's own kernels. */
function activate(backend: Backend, y: Info, activation: string, alpha: number | undefined, prelu: Info | undefined): Info {
  switch (activation) {
    case 'linear': return y;
    case 'relu': return runWasm(backend, 'Relu', { x: y });
    case 'relu6': return runWasm(backend, 'Relu6', { x: y });
    case 'elu': return runWasm(backend, 'Elu', { x: y });
    case 'sigmoid': return runWasm(backend, 'Sigmoid', { x: y });
    case 'leakyrelu': return runWasm(backend, 'LeakyRelu', { x: y }, { alpha: alpha ?? 0.2 });
    case 'prelu': return runWasm(backend, 'Prelu', { x: y, alpha: prelu! });
    default: throw new Error(`fused kernel: unknown activation '${activation}'`);
  }
}

/**
 * `out` ([rows, channels], channels last) with the bias added in place, then the activation (a new output; `out` is
 * freed). Returns what the fused kernel returns.
 */
export function applyEpilogue(backend: Backend, out: Info, rows: number, channels: number, e: Epilogue): Info {
  if (e.bias) {
    const y = heapF32(backend, heapOffset(backend, out), rows * channels);
    const v = heapF32(backend, heapOffset(backend, e.bias), channels);
    for (let r = 0, o = 0; r < rows; r++) for (let c = 0; c < channels; c++, o++) y[o] += v[c]!;
  }
  const y = activate(backend, out, e.activation ?? 'linear', e.leakyreluAlpha, e.preluActivationWeights);
  if (y !== out) free(backend, out);
  return y;
}
