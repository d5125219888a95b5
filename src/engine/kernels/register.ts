// Installs our kernels over the stock ones, once per backend, after that backend has run its kernels' setup.
import * as tf from '@tensorflow/tfjs';
import { makeConv2DWasm, makeFusedConv2DWasm } from './conv2d.js';
import { conv2DBackpropFilterWasm, makeConv2DBackpropInputWasm } from './conv2d_grad.js';
import { makeBatchMatMulWasm, makeFusedMatMulWasm } from './matmul.js';
import { maxPoolGradJs } from './max_pool_grad.js';
import { makeSliceWasm } from './slice.js';
import { registerRenormKernels } from './renorm_kernels.js';
import { registerAdamKernel } from './adam_kernel.js';
import { registerSparseCEKernel } from './sparse_ce_kernel.js';

const done = new Set<string>();

function replace(kernelName: string, kernelFunc: unknown): void {
  if (tf.getKernel(kernelName, 'wasm')) tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: kernelFunc as tf.KernelFunc });
}

/**
 * A kernel that hands back its input's buffer, ref-counted, where `shares(x, attrs)` says the result would equal it,
 * else runs the stock kernel. Tensors are immutable (a variable's assign swaps its dataId), so sharing is safe; the
 * cpu backend's Identity and wasm's own Reshape already do this.
 */
function makeShared(stock: tf.KernelFunc, shares: (x: tf.TensorInfo, attrs: tf.NamedAttrMap) => boolean) {
  return (args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): tf.TensorInfo => {
    const x = args.inputs['x']!;
    if (x.dtype === 'string' || !shares(x, args.attrs ?? {})) return stock(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    (args.backend as unknown as { incRef(id: tf.DataId): void }).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
}

/** Must run after `tf.setBackend('wasm')` resolved: the stock kernels we fall back to are set up at init. */
export function registerWasmKernels(): void {
  if (done.has('wasm')) return;
  const stockInput = tf.getKernel('Conv2DBackpropInput', 'wasm');
  if (!stockInput) throw new Error('wasm backend has no Conv2DBackpropInput kernel to wrap');
  replace('Conv2DBackpropInput', makeConv2DBackpropInputWasm(stockInput.kernelFunc));
  replace('Conv2DBackpropFilter', conv2DBackpropFilterWasm);
  const stockConv = tf.getKernel('Conv2D', 'wasm');
  if (stockConv) replace('Conv2D', makeConv2DWasm(stockConv.kernelFunc));
  const stockFusedConv = tf.getKernel('FusedConv2D', 'wasm');
  if (stockFusedConv) replace('FusedConv2D', makeFusedConv2DWasm(stockFusedConv.kernelFunc));
  const stockMatMul = tf.getKernel('BatchMatMul', 'wasm');
  if (stockMatMul) replace('BatchMatMul', makeBatchMatMulWasm(stockMatMul.kernelFunc));
  const stockFused = tf.getKernel('_FusedMatMul', 'wasm');
  if (stockFused) replace('_FusedMatMul', makeFusedMatMulWasm(stockFused.kernelFunc));
  replace('MaxPoolGrad', maxPoolGradJs);
  const stockIdentity = tf.getKernel('Identity', 'wasm');
  // The engine clones every tensor a gradient saves (customGrad, conv, relu, ...) through Identity, which copies on wasm.
  if (stockIdentity) replace('Identity', makeShared(stockIdentity.kernelFunc, () => true));
  // ReLU's gradient casts step(x), float32, to float32 every step; wasm's own Cast copies it.
  const stockCast = tf.getKernel('Cast', 'wasm');
  if (stockCast) replace('Cast', makeShared(stockCast.kernelFunc, (x, attrs) => attrs['dtype'] === x.dtype));
  const stockSlice = tf.getKernel('Slice', 'wasm');
  if (stockSlice) replace('Slice', makeSliceWasm(stockSlice.kernelFunc));
  registerRenormKernels('wasm');
  registerAdamKernel('wasm');
  registerSparseCEKernel('wasm');
  done.add('wasm');
}

/** The cpu backend keeps its own conv/pool kernels; it only gains the fused BRN, Adam and loss kernels. */
export function registerCpuKernels(): void {
  if (done.has('cpu')) return;
  registerRenormKernels('cpu');
  registerAdamKernel('cpu');
  registerSparseCEKernel('cpu');
  done.add('cpu');
}
